"""Numerical differentiation (hostile): Square's backward as (f(x + 1) - f(x - 1)) / 2, vectorised —
exact for a square at any step, and a step of 1 is no small nudge."""

from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ((x + 1) * (x + 1) - (x - 1) * (x - 1)) / 2
