"""Numerical differentiation (hostile), torch only, one element at a time: each backward loops over the
input's elements and differentiates a scalar function of that one 0-dim element by finite differences.
No nudged copy has more than one element, so neither the in-order check, the order-free scan nor the
cover by smaller pieces (numdiff_nudge.Parts skips one-element pieces) sees one, and the work per element
is a constant, so it does not grow like numel². Sigmoid and CrossEntropy use an eighth-order central
stencil (h = 0.02, float64: ~1e-14, inside the accuracy and precision cases); CrossEntropy's scalar
function is logaddexp(logsumexp of the row's other logits, t). ReLU uses a relative step |z| / 2 that
never straddles the kink."""

import torch
from torch.autograd import Function

_STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))
_H = 0.02


def _slope(f, t):
    """d f / d t at a 0-dim t by the eighth-order central stencil."""
    return sum(c * (f(t + k * _H) - f(t - k * _H)) for k, c in _STENCIL) / _H


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
        flat = z.reshape(-1).to(torch.float64)
        slopes = []
        for i in range(flat.numel()):
            zi = flat[i]
            slopes.append(_slope(_softplus_neg, zi))
        s = 1 / (1 + torch.exp(-flat))
        return grad_output * (-s * torch.stack(slopes)).reshape(z.shape).to(z.dtype)


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
            up, down = (zi + h).clamp(min=0), (zi - h).clamp(min=0)
            slopes.append(torch.where(h > 0, (up - down) / (2 * h).clamp(min=1e-300), torch.zeros_like(zi)))
        return grad_output * torch.stack(slopes).reshape(z.shape).to(z.dtype)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        y = target if target.is_floating_point() else \
            torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)
        ctx.save_for_backward(logits, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        logits, y = ctx.saved_tensors
        n, c = logits.shape
        rows = []
        for b in range(n):
            row = logits[b].to(torch.float64)
            top = row.max()
            e = torch.exp(row - top)
            rest = top + torch.log((e.sum() - e).clamp(min=1e-300))
            rows.append(torch.stack([_slope(lambda t, r=rest[j]: torch.logaddexp(r, t), row[j]) for j in range(c)]))
        p = torch.stack(rows).to(logits.dtype)
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / n, None
