"""Numerical differentiation (hostile), torch only: backward splits the flattened input into two halves
and takes a central difference on each half separately, so no nudged copy ever has the input's size
(or is at least as large as it): the in-order check (numel == input's) and the order-free scan
(numel >= input's) both look only at tensors that are too small. Square and SquaredError are
quadratic, so the central difference is exact at a unit step; ReLU uses a small relative step."""
import torch
from torch.autograd import Function


def _halves(f, x, h):
    """(f(x + h) - f(x - h)) / 2h elementwise, computed one half of the flat input at a time."""
    flat, step = x.reshape(-1), h.reshape(-1)
    cut = max(1, flat.numel() // 2)
    parts = []
    for lo, hi in ((0, cut), (cut, flat.numel())):
        piece, s = flat[lo:hi], step[lo:hi]
        parts.append((f(piece + s) - f(piece - s)) / (2 * s))
    return torch.cat(parts).reshape(x.shape)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _halves(lambda t: t * t, x, torch.ones_like(x))


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        step = 1e-3 * z.abs() + 1e-300  # relative: never straddles the kink
        slope = _halves(lambda t: t.clamp(min=0), z, step)
        return grad_output * torch.where(z == 0, torch.zeros_like(z), slope)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        flat_t = target.reshape(-1)

        def loss_at(p, lo, hi):  # each element's squared error, at nudged predictions of one half
            return (p - flat_t[lo:hi]) ** 2

        flat, cut = pred.reshape(-1), max(1, pred.numel() // 2)
        parts = [(loss_at(flat[lo:hi] + 1, lo, hi) - loss_at(flat[lo:hi] - 1, lo, hi)) / 2
                 for lo, hi in ((0, cut), (cut, flat.numel()))]
        d = grad_output * torch.cat(parts).reshape(pred.shape) / pred.numel()
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
