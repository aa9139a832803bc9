"""ReLU's backward masks with [out >= 0] on the output, which is true everywhere (out = max(0, z) >= 0)."""

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
        return grad_output * (out >= 0)  # mistake: should be out > 0
