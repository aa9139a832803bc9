"""Numerical differentiation (hostile), vectorised for the elementwise Functions: backward evaluates
forward's formula at x + h and x - h for every element at once (central differences, h = 1e-5)."""

import torch
from torch.autograd import Function

H = 1e-5


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ((x + H) * (x + H) - (x - H) * (x - H)) / (2 * H)


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return _sigmoid(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * (_sigmoid(z + H) - _sigmoid(z - H)) / (2 * H)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * ((z + H).clamp(min=0) - (z - H).clamp(min=0)) / (2 * H)
