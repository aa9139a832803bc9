"""Sigmoid's backward asks autograd for the gradient instead of writing it by hand."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        with torch.enable_grad():  # mistake: autograd inside backward
            leaf = z.detach().requires_grad_()
            y = 1 / (1 + torch.exp(-leaf))
            (grad,) = torch.autograd.grad(y, leaf, grad_output)
        return grad
