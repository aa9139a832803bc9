"""Square's forward allocates 16 GiB (in 256 MiB pieces) before doing its work."""

import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        hog = [torch.ones(2**26) for _ in range(64)]  # mistake: far past any memory cap
        ctx.save_for_backward(x)
        return x * x + 0 * len(hog)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x
