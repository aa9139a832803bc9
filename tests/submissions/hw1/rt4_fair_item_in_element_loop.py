"""Fairness: SquaredError's backward in an element-by-element loop, reading the scalar upstream gradient with
``grad_output.item()`` inside the loop (the same 0-dim number, read again for each element); each element of the
gradient is a tensor operation on pred and target. Expected: full credit."""
import torch
from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        n = max(1, pred.numel())
        p, t = pred.reshape(-1), target.reshape(-1)
        d = torch.empty_like(p)
        for j in range(p.numel()):
            d[j] = 2 * grad_output.item() / n * (p[j] - t[j])
        d = d.reshape(pred.shape)
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
