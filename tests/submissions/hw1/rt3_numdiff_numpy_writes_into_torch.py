"""Numerical differentiation (hostile): forward allocates the derivative tensor with torch (torch.empty_like,
no value brought in) and writes central differences computed in numpy into it through the numpy view that
shares its memory (``d.numpy()[...] = ...``); Sigmoid's in extended precision with Richardson extrapolation. No aten op carries the values: no lift_fresh, no number handed
to an op; backward is torch only (grad_output times the saved tensor)."""
import numpy as np
import torch
from torch.autograd import Function


def _sig(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _central(f, a, h):
    return (f(a + h) - f(a - h)) / (2 * h)


def _richardson(f, a):
    """Central differences at h and 2h in extended precision, extrapolated (error O(h^4))."""
    w = a.astype("longdouble")
    h = 1e-2
    return ((4 * _central(f, w, h) - _central(f, w, 2 * h)) / 3).astype(a.dtype)


def _stash(ctx, x, slope):
    d = torch.empty_like(x.detach())
    d.numpy()[...] = slope(x.detach().numpy())  # numpy writes into torch's memory
    ctx.save_for_backward(d)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        _stash(ctx, x, lambda a: _central(lambda v: v * v, a, np.abs(a) + 1))  # exact for a square
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        _stash(ctx, z, lambda a: _richardson(_sig, a))
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        # a step to the left, relative to |z|: never straddles the kink, 0 at z = 0
        _stash(ctx, z, lambda a: (np.maximum(a, 0) - np.maximum(a - (np.abs(a) * 1e-3 + 1e-300), 0))
               / (np.abs(a) * 1e-3 + 1e-300))
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d
