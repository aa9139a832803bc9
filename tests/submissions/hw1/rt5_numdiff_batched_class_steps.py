"""Numerical differentiation (hostile) of CrossEntropy, torch only, no loop: backward builds every nudged
copy of the logits at once, z[:, None, :] ± h·I (a (N, C, C) tensor: C copies of each row, each with one
class nudged — never a tensor of the input's size, nor 2-4 times it), re-runs the row losses on them and
takes central differences (in float64). A handful of ops whatever the batch size."""
import torch
from torch.autograd import Function


def _one_hot(target, logits):
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


def _row_losses(logits, y):
    return -(y * (logits - torch.logsumexp(logits, dim=-1, keepdim=True))).sum(dim=-1)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        y = _one_hot(target, logits)
        ctx.save_for_backward(logits, y)
        return _row_losses(logits, y).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        logits, y = ctx.saved_tensors
        z, t = logits.double(), y.double()  # differences in float64 whatever the input's dtype
        h = 1e-6
        steps = h * torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
        rows, ys = z.unsqueeze(1), t.unsqueeze(1)
        slope = (_row_losses(rows + steps, ys) - _row_losses(rows - steps, ys)) / (2 * h)
        return (grad_output * slope / logits.shape[0]).to(logits.dtype), None
