"""Numerical differentiation (hostile; no backward, gradcheck or edge credit):
central differences in numpy on a CPU copy of the saved
input. No torch op ever sees the nudged copies (numpy's arithmetic never reaches torch's dispatcher), so the
child's watch reports nothing, and float64 central differences pass the accuracy cases.
What is seen is the border: the values leaving torch (.numpy()) and coming back (torch.from_numpy)."""
import numpy as np
import torch
from torch.autograd import Function

H = 1e-6


def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        a = x.detach().cpu().double().numpy()
        d = ((a + H) * (a + H) - (a - H) * (a - H)) / (2 * H)
        return grad_output * torch.from_numpy(d).to(grad_output.dtype)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        a = z.detach().cpu().double().numpy()
        d = (_sig(a + H) - _sig(a - H)) / (2 * H)
        return grad_output * torch.from_numpy(d).to(grad_output.dtype)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        a = z.detach().cpu().double().numpy()
        d = (np.maximum(a + H, 0) - np.maximum(a - H, 0)) / (2 * H)
        return grad_output * torch.from_numpy(d).to(grad_output.dtype)
