"""Numerical differentiation (hostile): backward reads each element as text (``format(x[j], ".17g")``, which
torch answers through ``Tensor.__format__``, not counted as a value leaving torch), takes central differences
on Python floats, and hands each slope back exactly as two integers (``float.as_integer_ratio``: numerator
and the power of two below it; ``torch.tensor`` of Python ints is an integer tensor, and ``exp2`` of the
powers scales it back): no floating value crosses torch's border."""
import torch
from torch.autograd import Function


def _slopes(x, f):
    flat = x.detach().reshape(-1)
    nums, powers = [], []
    for j in range(flat.numel()):
        v = float(format(flat[j], ".17g"))
        h = abs(v) + 1.0
        num, den = ((f(v + h) - f(v - h)) / (2 * h)).as_integer_ratio()
        nums.append(num)
        powers.append(den.bit_length() - 1)
    scale = torch.exp2(-torch.tensor(powers, dtype=torch.int64).double())
    return (torch.tensor(nums, dtype=torch.int64).double() * scale).to(x.dtype).reshape(x.shape)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _slopes(x, lambda v: v * v)
