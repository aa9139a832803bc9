"""Fairness: Sigmoid, ReLU and CrossEntropy whose backward loops over the input's elements one at a time, each
element a 0-dim tensor, and writes the analytic derivative for that element: what a numerical loop looks like
op for op (0-dim copies of x[i] moved by some amount), without ever evaluating the Function at x[i] ± h.
Sigmoid writes the slope from z[i] two ways, (1 - tanh²(z[i] / 2)) / 4 (z[i] / 2 is a 0-dim copy of z[i]
moved by half of it) and e / (1 + e)² with e = exp(z[i]); ReLU reads a yes/no per element into a Python mask
(1.0 or 0.0) and also forms z[i] + |z[i]| and z[i] - |z[i]| (2z and 0, which average to z[i]); CrossEntropy
builds each row's softmax element by element (row[j] - max, exp, / sum, minus the one-hot) and reads its 0-dim
upstream gradient once with .item(). Expected: full credit."""

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
        out = torch.empty_like(flat)
        for i in range(flat.numel()):
            zi = flat[i]
            if zi >= 0:
                t = torch.tanh(zi / 2)  # z[i] / 2: a 0-dim copy of z[i] moved by half of it
                slope = (1 - t * t) / 4  # sigmoid' = (1 - tanh²(z / 2)) / 4
            else:
                e = torch.exp(zi)  # exp of a negative number: no overflow
                slope = e / ((1 + e) * (1 + e))
            out[i] = slope * g[i]
        return out.reshape(z.shape)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat, g = z.reshape(-1), grad_output.reshape(-1)
        out = torch.empty_like(flat)
        for i in range(flat.numel()):
            zi = flat[i]
            mask = 1.0 if zi > 0 else 0.0
            alive, dead = zi + zi.abs(), zi - zi.abs()  # 2z and 0, or 0 and 2z: they average to z[i]
            if alive > 0:
                out[i] = mask * g[i]
            elif dead < 0:
                out[i] = 0.0 * g[i]
            else:  # the kink: 0 either way
                out[i] = mask * g[i]
        return out.reshape(z.shape)


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
        scale = grad_output.item() / n  # the 0-dim upstream gradient, read once
        grad = torch.empty_like(logits)
        for b in range(n):
            row = logits[b]
            top = row.max()
            e = [torch.exp(row[j] - top) for j in range(c)]
            total = e[0]
            for j in range(1, c):
                total = total + e[j]
            mass = y[b].sum()
            for j in range(c):
                grad[b, j] = (e[j] / total * mass - y[b, j]) * scale
        return grad, None
