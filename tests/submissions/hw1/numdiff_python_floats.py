"""Numerical differentiation (hostile; no backward, gradcheck or edge credit):
central differences on Python floats, element by element
(tolist, math.exp), back through torch.tensor. Float arithmetic never reaches torch, so the watch sees
neither the nudged values nor the work.
What is seen is the border: the values leaving torch (.tolist()) and coming back (torch.tensor)."""
import math

import torch
from torch.autograd import Function

H = 1e-6


def _sig(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _numdiff(f, x):
    flat = x.detach().double().reshape(-1).tolist()
    d = [(f(v + H) - f(v - H)) / (2 * H) for v in flat]
    return torch.tensor(d, dtype=x.dtype).reshape(x.shape)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _numdiff(lambda v: v * v, x)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _numdiff(_sig, z)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _numdiff(lambda v: max(v, 0.0), z)
