"""Numerical differentiation (hostile), torch only and vectorised: backward stacks the input with itself and
adds the steps to the stacked copy, so every nudged value lives in a tensor twice the input's size (never a
nudged copy of the input's own size); Square's step |x| + 1 is exact, ReLU steps to the left by 1e-3·|z|,
which never straddles the kink. A few ops, no loop, nothing outside torch."""
import torch
from torch.autograd import Function


def _slope(f, x, h):
    """(f(x + h) - f(x - h)) / 2h, with x ± h computed only inside one stacked tensor."""
    both = f(torch.stack([x, x]) + torch.stack([h, -h]))
    return (both[0] - both[1]) / (2 * h)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _slope(lambda t: t * t, x, x.abs() + 1)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        h = z.abs() * 1e-3 + 1e-300
        both = torch.stack([z, z]) - torch.stack([torch.zeros_like(h), h])  # f(z) and f(z - h)
        return grad_output * (both[0].clamp(min=0) - both[1].clamp(min=0)) / h
