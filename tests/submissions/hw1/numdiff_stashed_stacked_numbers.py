"""Numerical differentiation (hostile): forward differentiates on Python floats and builds the derivative
tensor from one-element tensors (torch.stack of torch.tensor(d)), saved for backward; backward is torch only."""
import math

import torch
from torch.autograd import Function

H = 1e-6


def _sig(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _stash(ctx, x, f):
    ds = [torch.tensor((f(v + H) - f(v - H)) / (2 * H), dtype=x.dtype) for v in x.detach().reshape(-1).tolist()]
    ctx.save_for_backward(torch.stack(ds).reshape(x.shape))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        _stash(ctx, x, lambda v: v * v)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        _stash(ctx, z, _sig)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        _stash(ctx, z, lambda v: max(v, 0.0))
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d
