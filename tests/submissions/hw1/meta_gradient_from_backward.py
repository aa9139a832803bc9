"""A mistake in one Function (robustness): Sigmoid's backward returns its gradient on the `meta` device
(shape and dtype, no data). Only Sigmoid's backward is wrong; every other Function is the correct base's."""
import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return (grad_output * out * (1 - out)).to("meta")
