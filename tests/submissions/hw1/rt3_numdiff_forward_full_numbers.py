"""Numerical differentiation (hostile): forward reads its input as Python floats, takes central differences
with math, and builds the derivative one number at a time with ``torch.full((), d)`` (no lift_fresh: the
number is an op's argument, and forward's numbers are not counted), stacked and saved; backward is torch only."""
import math

import torch
from torch.autograd import Function


def _sig(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _stash(ctx, x, f, step):
    ds = []
    for v in x.detach().double().reshape(-1).tolist():
        h = step(v)
        ds.append(torch.full((), (f(v + h) - f(v - h)) / (2 * h), dtype=x.dtype))
    ctx.save_for_backward(torch.stack(ds).reshape(x.shape) if ds else torch.zeros_like(x))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        _stash(ctx, x, lambda v: v * v, lambda v: abs(v) + 1)  # exact for a square
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        # one-sided to the left, relative to |z| (never straddles the kink): f(v) - f(v - 2h) over 2h
        _stash(ctx, z, lambda v: max(v, 0.0) if v < 0 or v == 0 else v, lambda v: abs(v) * 1e-3 + 1e-300)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d
