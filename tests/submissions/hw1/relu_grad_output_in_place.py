"""ReLU's backward zeroes grad_output in place and returns it."""

import torch
from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        out = torch.where(z > 0, z, torch.zeros_like(z))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        grad_output[out <= 0] = 0  # mistake: grad_output belongs to the caller
        return grad_output
