# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt18 (hostile, escape): an attribute a listed base's `__init__` puts in the instance's dict shadows the nested
# class of that name. `torch.nn.Module.__init__` stores its tables with `super().__setattr__("_forward_hooks",
# OrderedDict())`; Index.api_stores collected names stored by STORE_ATTR or by `setattr(...)`, not by a call of
# `__setattr__`, and `_forward_hooks` is not a class attribute of Module (not in dir(Module)): classes.nested_class
# typed `_m._forward_hooks` as the nested class, while at run time it is that OrderedDict. Its `.get(key, default)`
# returns `default`, typed as an instance of the nested class `get`: an ndarray, whose nested classes walk the
# ctypes helper -> ctypes -> sys -> a frame and builtins.exec: the forger runs with the runner's frame.
import numpy as np
import torch


class _M(torch.nn.Module):
    class _forward_hooks:
        class get:
            class ctypes:
                class _ctypes:
                    class _sys:
                        class _getframe:
                            pass

                        class modules:
                            class get:
                                exec = None


_m = _M()
_m._forward_hooks.get("k", np.zeros(1)).ctypes._ctypes._sys.modules.get("builtins").exec(
    _FORGE, {"_frame": _m._forward_hooks.get("k", np.zeros(1)).ctypes._ctypes._sys._getframe()})
