"""ReLU's backward masks with [z >= 0] on the input: the lecture's convention, gradient 1 at exactly z = 0
where torch uses 0. Both are subgradients, so this is not a mistake: it earns full credit."""

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
        return grad_output * (z >= 0)  # mistake at z = 0 only
