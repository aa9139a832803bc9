# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt15 (hostile, escape): a class derived from `cls` inside a classmethod is not joined to its base's family.
# The gate accepts `cls` as a base (it is the own class, `cls_params`), but classes.py joins families through
# `resolver.static`, which follows class statements and plain aliases only, not a parameter: `_B` is a family of
# its own with no trusted methods -- not guarded, so `return _B` is no class factory and `_K.sub()` is a plain
# value. Through it the unbound methods `_K` defines (named like `ATTRIBUTES` entries) run on any object as the
# `self` the gate trusts: numpy -> ctypes -> sys -> a frame, and the forger of test_gate_grading.py runs with the
# runner's frame (the chain of rt14, by another road).
import numpy as np


class _K:
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

    @classmethod
    def sub(cls):
        class _B(cls):  # hole
            pass

        return _B


_C = _K.sub()
_sys = _C.items(_C.keys(_C.values(np.zeros(1))))
_C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
