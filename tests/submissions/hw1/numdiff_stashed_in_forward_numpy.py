"""Numerical differentiation (hostile): forward computes the derivative by central differences in numpy and
saves it with save_for_backward; backward is torch only (grad_output times the saved tensor)."""
import numpy as np
import torch
from torch.autograd import Function

H = 1e-6


def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _stash(ctx, a, f):
    d = (f(a + H) - f(a - H)) / (2 * H)
    ctx.save_for_backward(torch.from_numpy(d))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        _stash(ctx, x.detach().cpu().double().numpy(), lambda v: v * v)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d.to(grad_output.dtype)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        _stash(ctx, z.detach().cpu().double().numpy(), _sig)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d.to(grad_output.dtype)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        _stash(ctx, z.detach().cpu().double().numpy(), lambda v: np.maximum(v, 0))
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d.to(grad_output.dtype)
