"""Sigmoid's forward calls torch.sigmoid, the built-in the task asks the student to write."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = torch.sigmoid(z)  # mistake: forbidden built-in
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
