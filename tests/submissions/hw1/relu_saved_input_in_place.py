"""ReLU's backward turns its saved input z into the 0/1 mask in place (z belongs to the caller)."""

import torch
from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        z[z > 0] = 1  # mistake: writes into the saved input
        z[z <= 0] = 0
        return grad_output * z
