"""Sigmoid saves its input z but its backward treats it as the output: z(1 − z) instead of σ(z)(1 − σ(z))."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)  # mistake: the derivative needs the output σ(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
