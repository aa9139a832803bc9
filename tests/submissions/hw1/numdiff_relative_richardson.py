"""Numerical differentiation (hostile): Richardson extrapolation of central differences with a step
relative to each element, x · (1 ± h) and x · (1 ± h/2), vectorised — accurate to many digits on
ordinary inputs."""

import torch
from torch.autograd import Function

H = 1e-3


def _central(f, x, h):
    step = h * x.abs().clamp(min=1e-3)
    return (f(x + step) - f(x - step)) / (2 * step)


def _richardson(f, x):
    return (4 * _central(f, x, H / 2) - _central(f, x, H)) / 3


def _square(x):
    return x * x


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _square(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _richardson(_square, x)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return _sigmoid(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _richardson(_sigmoid, z)
