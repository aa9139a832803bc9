"""Numerical differentiation (hostile), torch only, one element at a time, as rt7_numdiff_scalar_loops.py, but
each central pair is evaluated in one two-element tensor: f(x[i] + steps) with steps = (+k·h, -k·h). No 0-dim
value is ever x[i] ± h (child/numdiff_scalar.py keeps one-element results only), and a two-element piece
holds one input element moved by two different steps, which numdiff_nudge.Parts (one shift or one relative
step for the whole piece) does not match. Sigmoid and CrossEntropy use the eighth-order stencil (h = 0.02,
float64: ~1e-14, inside the accuracy and precision cases); ReLU a relative step |z| / 2 that never straddles
the kink; SquaredError a plain central difference of a quadratic (exact)."""

import torch
from torch.autograd import Function

_COEF = (4 / 5, -1 / 5, 4 / 105, -1 / 280)
_H = 0.02


def _slope(f, t, sign):
    """d f / d t at a 0-dim t by the eighth-order central stencil, each pair in one two-element tensor
    (``sign``: the constant (1, -1), made once per backward call)."""
    total = t.new_zeros(())
    for k, c in enumerate(_COEF, start=1):
        pair = f(t + sign * (k * _H))
        total = total + c * (pair[0] - pair[1])
    return total / _H


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
        sign = flat.new_tensor([1.0, -1.0])
        slopes = [_slope(_softplus_neg, flat[i], sign) for i in range(flat.numel())]
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
        sign = flat.new_tensor([1.0, -1.0])
        slopes = []
        for i in range(flat.numel()):
            zi = flat[i]
            h = zi.abs() / 2
            pair = (zi + sign * h).clamp(min=0)
            slopes.append(torch.where(h > 0, (pair[0] - pair[1]) / (2 * h).clamp(min=1e-300), torch.zeros_like(zi)))
        return grad_output * torch.stack(slopes).reshape(z.shape).to(z.dtype)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        p, t = pred.reshape(-1), target.reshape(-1)
        sign = p.new_tensor([1.0, -1.0])
        slopes = []
        for i in range(p.numel()):
            h = p[i].abs() / 4 + 0.5
            pair = (p[i] + sign * h - t[i]) ** 2
            slopes.append((pair[0] - pair[1]) / (2 * h))
        grad = torch.stack(slopes).reshape(pred.shape) / p.numel()
        return grad_output * grad, -grad_output * grad


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
        rows, sign = [], logits.new_tensor([1.0, -1.0], dtype=torch.float64)
        for b in range(n):
            row = logits[b].to(torch.float64)
            top = row.max()
            e = torch.exp(row - top)
            rest = top + torch.log((e.sum() - e).clamp(min=1e-300))
            rows.append(torch.stack([_slope(lambda t, r=rest[j]: torch.logaddexp(r, t), row[j], sign) for j in range(c)]))
        p = torch.stack(rows).to(logits.dtype)
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / n, None
