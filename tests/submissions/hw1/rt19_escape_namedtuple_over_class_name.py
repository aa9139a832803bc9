# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt19 (hostile, escape): a name bound to an own class and to a namedtuple is "one of these classes" to the gate
# (Resolver.join merges their families), and a call of it was typed as an own instance of the merged family, on
# which the nested classes of `_C`'s class statement were read. A namedtuple family has no class statement, so
# nothing told the gate that its field `numpy` is an instance attribute holding what the caller passed: at run
# time `_C` is the namedtuple, `_x.numpy` is the tensor's bound `.numpy`, and the nested classes walk the ndarray's
# ctypes helper -> ctypes -> sys -> a frame and builtins.exec: the forger runs with the runner's frame.
import collections

import torch


class _C:
    class numpy:
        class ctypes:
            class _ctypes:
                class _sys:
                    class _getframe:
                        pass

                    class modules:
                        class get:
                            exec = None


_C = collections.namedtuple("_C", "numpy")  # hole: `_C` is "the class or the namedtuple", typed as the class
_x = _C(torch.zeros(2).numpy)
_x.numpy().ctypes._ctypes._sys.modules.get("builtins").exec(_FORGE, {"_frame": _x.numpy().ctypes._ctypes._sys._getframe()})
