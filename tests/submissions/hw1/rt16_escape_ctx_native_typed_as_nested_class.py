# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt16 (hostile, escape): a Function's ctx is no instance of the Function class -- it is an object of the
# generated `_FBackward(BackwardCFunction)` class, whose native `_forward_cls` is the Function class itself. But
# classes.py `nested_class` types `ctx.<name>` as the class a class body of the family defines as `<name>`
# whenever nothing the gate sees rebinds it: with an empty `class _forward_cls` in the body, `ctx._forward_cls`
# -- the guarded Function `_F` -- is typed as that unguarded nested class, a plain value, kept in a list. Through
# it the Function's static helpers (named like `ATTRIBUTES` entries, trusting `ctx`) run on any object: numpy ->
# ctypes -> sys -> a frame, and the forger of test_gate_grading.py runs with the runner's frame.
import numpy as np
import torch

_keep = []


class _F(torch.autograd.Function):
    class _forward_cls:
        pass

    @staticmethod
    def forward(ctx, x):
        ctx.ctypes = None
        ctx._ctypes = None
        ctx._sys = None
        ctx._getframe = None
        ctx.modules = None
        ctx.exec = None
        _keep.append(ctx._forward_cls)  # hole
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def values(ctx):
        return ctx.ctypes

    @staticmethod
    def keys(ctx):
        return ctx._ctypes

    @staticmethod
    def items(ctx):
        return ctx._sys

    @staticmethod
    def get(ctx):
        return ctx._getframe

    @staticmethod
    def pop(ctx):
        return ctx.modules

    @staticmethod
    def index(ctx):
        return ctx.exec


_F.apply(torch.ones(1))
_C = _keep[0]
_sys = _C.items(_C.keys(_C.values(np.zeros(1))))
_C.index(_C.pop(_sys)["builtins"])(_FORGE, {"_frame": _C.get(_sys)()})
