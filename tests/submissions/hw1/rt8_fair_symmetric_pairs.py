"""Analytic backwards (fair), one element at a time, written with symmetric pairs: Sigmoid's slope as
σ(z)·σ(-z) from the two-element tensor (z, -z) (σ' = σ(z)·(1 - σ(z)) = σ(z)·σ(-z)); ReLU's mask from
(sign(z) + 1) / 2 with the kink sent to 0; SquaredError's gradient from the half-sum and half-difference of
each (pred, target) pair (pred - target = 2·half-difference); CrossEntropy's softmax row by row from
exp(z - max). Honest per-element numbers: no pair averages to an input element but by rounding chance."""

import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(z)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat, sign = z.reshape(-1), z.new_tensor([1.0, -1.0])
        slopes = [(1 / (1 + torch.exp(-sign * flat[i]))).prod() for i in range(flat.numel())]
        return grad_output * torch.stack(slopes).reshape(z.shape)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return (z + z.abs()) / 2

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat = z.reshape(-1)
        mask = [torch.where(flat[i] > 0, (torch.sign(flat[i]) + 1) / 2, flat[i] * 0) for i in range(flat.numel())]
        return grad_output * torch.stack(mask).reshape(z.shape)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        p, t, n = pred.reshape(-1), target.reshape(-1), pred.numel()
        halves = []
        for i in range(n):
            half_sum, half_diff = (p[i] + t[i]) / 2, (p[i] - t[i]) / 2
            assert torch.isfinite(half_sum)  # a sanity check on the pair
            halves.append(half_diff)
        d = grad_output * 4 * torch.stack(halves).reshape(pred.shape) / n
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
        rows = []
        for b in range(logits.shape[0]):
            e = torch.exp(logits[b] - logits[b].max())
            rows.append(e / e.sum())
        p = torch.stack(rows)
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / logits.shape[0], None
