"""Sigmoid's backward multiplies by σ(z) alone, dropping the (1 − σ(z)) factor."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s  # mistake: should be grad_output * s * (1 - s)
