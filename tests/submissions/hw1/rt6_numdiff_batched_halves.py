"""Numerical differentiation (hostile), torch only and batched: every nudged copy of an input is built
at once in one broadcast tensor, but for half of the input's elements at a time (two halves of the
basis, or two halves of the rows). Each such tensor moves at most half of the input's values, under
the order-free scan's 90%; the work is a handful of large ops (never one op per input element), so the
work-growth signal stays silent too. Linear is linear, so a unit central difference is exact;
CrossEntropy differentiates each row's log-sum-exp by an eighth-order stencil (h = 0.02, float64),
accurate to ~1e-14, so the precision cases pass."""
import torch
from torch.autograd import Function

_STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))


def _halves(n):
    cut = max(1, n // 2)
    return ((0, cut), (cut, n)) if cut < n else ((0, n),)


def _basis_slope(loss, t):
    """d loss / d t for a scalar loss linear in t: unit central differences along each basis vector,
    the nudged copies batched along a new leading dimension, half of the basis at a time."""
    flat = t.reshape(-1)
    eye = torch.eye(flat.numel(), dtype=t.dtype)
    parts = []
    for lo, hi in _halves(flat.numel()):
        step = eye[lo:hi].reshape(hi - lo, *t.shape)
        parts.append((loss(t + step) - loss(t - step)) / 2)
    return torch.cat(parts).reshape(t.shape)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias if bias is not None else torch.zeros(weight.shape[0],
                                                                                  dtype=weight.dtype))
        ctx.has_bias = bias is not None
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        g = grad_output

        def loss(xb, wb, bb):
            return (g * (xb @ wb.transpose(-1, -2) + bb.unsqueeze(-2))).sum((-1, -2))

        grad_x = _basis_slope(lambda t: loss(t, weight, bias), x) if ctx.needs_input_grad[0] else None
        grad_w = _basis_slope(lambda t: loss(x, t, bias), weight) if ctx.needs_input_grad[1] else None
        grad_b = None
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = _basis_slope(lambda t: loss(x, weight, t), bias)
        return grad_x, grad_w, grad_b


def _one_hot(target, logits):
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        y = _one_hot(target, logits)
        ctx.save_for_backward(logits, y)
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        logits, y = ctx.saved_tensors
        x = logits.to(torch.float64)
        n, classes = x.shape
        eye = torch.eye(classes, dtype=x.dtype)
        ks = torch.tensor([k for k, _ in _STENCIL], dtype=x.dtype)
        cs = torch.tensor([c for _, c in _STENCIL], dtype=x.dtype)
        rows = []
        for lo, hi in _halves(n):
            block = x[lo:hi]  # (r, C): each class nudged by ±k·h, all at once: (K, C, r, C)
            step = (0.02 * ks)[:, None, None, None] * eye[None, :, None, :]
            up = torch.logsumexp(block[None, None] + step, dim=-1)
            down = torch.logsumexp(block[None, None] - step, dim=-1)
            slope = (cs[:, None, None] * (up - down)).sum(0) / 0.02  # (C, r)
            rows.append(slope.t())
        softmax = torch.cat(rows)
        return grad_output * ((softmax - y.to(x.dtype)) / n).to(logits.dtype), None
