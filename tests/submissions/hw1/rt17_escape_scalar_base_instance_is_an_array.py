# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt17 (hostile, escape): an own class derived from a numpy scalar type is no guarantee of what calling it makes.
# `np.float64.__new__` given an array returns that array (an ndarray), even for a subclass: `_x = _B(np.zeros(1))`
# is an ndarray, but values.py/resolve.py type `_x` as an own instance of `_B` (INSTANCE), on which the names the
# family defines are readable. `ctypes` is native to ndarrays, not to np.float64, so `_x.ctypes` is read as the
# nested class `_B.ctypes`, and its nested classes walk numpy's ctypes helper -> ctypes -> sys -> a frame and
# builtins.exec: the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np


class _B(np.float64):
    class ctypes:
        class _ctypes:
            class _sys:
                class _getframe:
                    pass

                class modules:
                    class get:
                        exec = None


_x = _B(np.zeros(1))  # hole: an ndarray, typed as an own instance of _B
_x.ctypes._ctypes._sys.modules.get("builtins").exec(_FORGE, {"_frame": _x.ctypes._ctypes._sys._getframe()})
