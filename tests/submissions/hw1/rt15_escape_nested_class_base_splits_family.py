# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt15 (hostile, escape): a class whose base is a nested class written as an attribute (`class _B(_Outer._In)`)
# is not joined to its base's family. The gate accepts `_Outer._In` as a base (expressions.member types it as
# that own class), but classes.py joins families through `resolver.static`, which reads an attribute only on a
# module or a listed type: `_Outer._In` is neither, so `_B` is a family of its own with no trusted methods --
# not guarded, a plain value. Through `_B` the unbound methods `_In` defines (named like `ATTRIBUTES` entries)
# run on any object as the `self` the gate trusts: numpy -> ctypes -> sys -> a frame, and the forger of
# test_gate_grading.py runs with the runner's frame (the chain of rt14, by another road).
import numpy as np


class _Outer:
    class _In:
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


class _B(_Outer._In):  # hole
    pass


_C = [_B][0]
_sys = _C.items(_C.keys(_C.values(np.zeros(1))))
_C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
