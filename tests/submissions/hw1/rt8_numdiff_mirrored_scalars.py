"""Numerical differentiation (hostile), torch only, one 0-dim element at a time, as rt7_numdiff_scalar_loops.py,
but the lower side of each central pair is evaluated through a mirror, so no kept number is ever x[i] - h:
Sigmoid: σ(x - h) = 1 - σ(h - x), with the eighth-order stencil on log σ (log σ(x - h) = log(1 - σ(h - x)),
computed as -softplus(x - h) = -(softplus(h - x) - (h - x))); ReLU: relu(x - h) = relu(h - x) - (h - x), at
the relative step |x| / 2. child/numdiff_scalar.py pairs two kept numbers that average to x[i]; here the
pairs are x + h and h - x (they average to h), so nothing straddles an input element. (The first ReLU
written here, relu(h - z) - (h - z), made z - h for z > 0 and was straddled on half the elements only:
less than 90%, so it already earned full credit.)"""

import torch
from torch.autograd import Function

_STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))
_H = 0.02


def _slope_log_sigmoid(t):
    """d log σ / d t at a 0-dim t, eighth-order central stencil; log σ(t - s) is -(softplus(s - t) - (s - t))."""
    total = zero = t.new_zeros(())
    for k, c in _STENCIL:
        up = -torch.logaddexp(zero, -(t + k * _H))  # log σ(t + kh)
        m = k * _H - t  # kh - t, the mirror of t - kh
        down = -torch.logaddexp(zero, m)  # log σ(t - kh) = -softplus(kh - t), no |m| (it would be t - kh)
        total = total + c * (up - down)
    return total / _H


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat = z.reshape(-1).to(torch.float64)
        slopes = torch.stack([_slope_log_sigmoid(flat[i]) for i in range(flat.numel())])
        s = 1 / (1 + torch.exp(-flat))
        return grad_output * (s * slopes).reshape(z.shape).to(z.dtype)  # σ' = σ · (log σ)'


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat = z.reshape(-1)
        slopes = []
        for i in range(flat.numel()):
            zi = flat[i]
            h = zi.abs() / 2
            m = h - zi  # the mirror of zi - h
            # relu(z + h) - relu(z - h) = relu(z + h) + (h - z) - relu(h - z): no number is ever z - h
            diff = ((zi + h).clamp(min=0) + m) - m.clamp(min=0)
            slopes.append(torch.where(h > 0, diff / (2 * h).clamp(min=1e-300), torch.zeros_like(zi)))
        return grad_output * torch.stack(slopes).reshape(z.shape).to(z.dtype)
