"""Fairness: SquaredError whose forward builds its constant scale as a numpy table (np.full of 2/n, the shape
of pred) and saves it as a tensor; backward multiplies (pred - target) by it in torch. The table holds one
constant, not a derivative. Expected: full credit."""
import numpy as np
import torch
from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        scale = torch.from_numpy(np.full(tuple(pred.shape), 2.0 / max(1, pred.numel()))).to(pred.dtype)
        ctx.save_for_backward(pred, target, scale)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target, scale = ctx.saved_tensors
        d = grad_output * scale * (pred - target)
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
