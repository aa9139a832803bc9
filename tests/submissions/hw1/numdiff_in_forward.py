"""Numerical differentiation (hostile), done in forward: Sigmoid's forward also evaluates itself at
z ± h, saves the finite-difference slope, and backward only multiplies by it."""

import torch
from torch.autograd import Function


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        h = 1e-6
        slope = (_sigmoid(z + h) - _sigmoid(z - h)) / (2 * h)
        ctx.save_for_backward(slope)
        return _sigmoid(z)

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope
