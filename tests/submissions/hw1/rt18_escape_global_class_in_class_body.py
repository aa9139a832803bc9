# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt18 (hostile, escape): a class statement in a class body after `global NAME` binds the module's NAME, not a class
# attribute. classes.py records every class statement written directly in a class body as a nested class
# (`Classes.nested`, and `families.sees` for Module.__getattr__), so `_m.Inner` was typed as the nested class, while
# `_M` has no class attribute `Inner`: `torch.nn.Module.register_buffer` (a listed method, on any object) registers a
# tensor under that name, served by Module's `__getattr__`, and the nested classes walk the tensor's `.numpy()` ->
# ctypes -> sys -> a frame and builtins.exec: the forger of test_gate_grading.py runs with the runner's frame.
import torch


class _M(torch.nn.Module):
    global Inner

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


_m = _M()
_m.register_buffer("Inner", torch.zeros(1))  # hole: no class attribute `Inner`, served by Module.__getattr__
_m.Inner.numpy().ctypes._ctypes._sys.modules.get("builtins").exec(
    _FORGE, {"_frame": _m.Inner.numpy().ctypes._ctypes._sys._getframe()})
