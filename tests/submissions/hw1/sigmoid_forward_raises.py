"""Sigmoid's forward raises an exception (a student's unfinished code)."""

from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        raise ValueError('boom')  # mistake: forward never returns

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
