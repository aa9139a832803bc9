# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt17 (hostile, escape): `setattr(self, NAME, value)` with a name the gate can list (a conditional between
# literals, a variable bound to one, a dict of literals indexed) is admitted on a trusted receiver, but
# classes.py `_named_store` records only a written-out string (or a computed name's fixed start) as a name the
# family assigns. So `Inner`, set here through a conditional, still counts as bound by nothing but the class
# statement, and `nested_class` types `self.Inner` / `_k.Inner` as that nested class -- while at run time it is the
# array stored on the instance. Its nested classes walk numpy's ctypes helper -> ctypes -> sys -> a frame and
# builtins.exec: the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np


class _K:
    class Inner:
        class ctypes:
            class _ctypes:
                class _sys:
                    class _getframe:
                        pass

                    class modules:
                        class get:
                            exec = None

    def __init__(self, a):
        setattr(self, "Inner" if a is not None else "other", a)  # hole: not recorded as a store of `Inner`


_k = _K(np.zeros(1))
_k.Inner.ctypes._ctypes._sys.modules.get("builtins").exec(_FORGE, {"_frame": _k.Inner.ctypes._ctypes._sys._getframe()})
