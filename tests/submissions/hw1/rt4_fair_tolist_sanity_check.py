"""Fairness: backward checks its saved input before using it — ``x.tolist()`` only to assert every entry is a
finite number (a debugging habit, nothing computed from the list) — then computes the gradient in torch.
Expected: full credit."""
import math

from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        values = x.reshape(-1).tolist()
        assert len(values) == x.numel() and all(math.isfinite(v) for v in values), "non-finite input"
        return grad_output * 2 * x
