"""Numerical differentiation (hostile), vectorised, with a different step for every element (seven sizes
in turn, so no single step a + b·|x| and no uniform shift or scale relates a nudged copy to the input):
Sigmoid by an eighth-order stencil on log(1 + exp(-z)), ReLU by a relative step, SquaredError by a central
difference. Held: the watch pairs x' + h and x' - h whatever the step (all three lose their credit)."""
import torch
from torch.autograd import Function

_STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))


def _steps(x, base):
    """A different step for every element: base times 1, 1.25, 1.5, ... (cycling through seven sizes)."""
    k = torch.arange(x.numel(), dtype=x.dtype).reshape(x.shape).remainder(7)
    return base * (1 + k / 4)


def _slope(f, x, h):
    return sum(c * (f(x + j * h) - f(x - j * h)) for j, c in _STENCIL) / h


def _softplus_neg(z):
    return z.clamp(max=0).neg() + torch.log1p(torch.exp(-z.abs()))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        z64 = z.to(torch.float64)
        d = _slope(_softplus_neg, z64, _steps(z64, 0.015))
        s = 1 / (1 + torch.exp(-z64))
        return grad_output * (-s * d).to(z.dtype)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        h = _steps(z, 0.1) * z.abs()
        up, down = (z + h).clamp(min=0), (z - h).clamp(min=0)
        d = torch.where(h > 0, (up - down) / (2 * h).clamp(min=1e-300), torch.zeros_like(z))
        return grad_output * d


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        h = _steps(pred, 0.5)
        d = (((pred + h) - target) ** 2 - ((pred - h) - target) ** 2) / (2 * h) / pred.numel()
        return (grad_output * d if ctx.needs_input_grad[0] else None), (-grad_output * d if ctx.needs_input_grad[1] else None)
