# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt17 (hostile, escape): a name a family's listed base serves through `__getattr__`. `_B` defines a nested class
# `Inner`; its base `_A` does not, so an `_A` object has no attribute `Inner` and `torch.nn.Module.register_buffer`
# (a listed method, on any object) registers a tensor under that name -- served by Module's `__getattr__`. The gate
# records names a family registers only on its trusted receivers, so `nested_class` still types `_a.Inner` as the
# nested class `_B.Inner`, and its nested classes walk the tensor's `.numpy()` -> ctypes -> sys -> a frame and
# builtins.exec: the forger of test_gate_grading.py runs with the runner's frame.
import torch


class _A(torch.nn.Module):
    pass


class _B(_A):
    class Inner:
        class numpy:
            class ctypes:
                class _ctypes:
                    class _sys:
                        class _getframe:
                            pass

                        class modules:
                            class get:
                                exec = None


_a = _A()
_a.register_buffer("Inner", torch.zeros(1))  # hole: served by Module.__getattr__, typed as `_B.Inner`
_a.Inner.numpy().ctypes._ctypes._sys.modules.get("builtins").exec(
    _FORGE, {"_frame": _a.Inner.numpy().ctypes._ctypes._sys._getframe()})
