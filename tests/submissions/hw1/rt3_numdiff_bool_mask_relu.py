"""Numerical differentiation (hostile): ReLU's forward measures its slope in numpy (a step to the left,
relative to |z|, so never across the kink) and keeps it as a bool mask, ``torch.from_numpy(np.asarray(slope > 0.5))``:
a bool tensor brought in is not followed; backward is torch only."""
import numpy as np
import torch
from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        a = z.detach().numpy()
        h = np.abs(a) * 1e-3 + 1e-300
        slope = (np.maximum(a, 0) - np.maximum(a - h, 0)) / h
        ctx.save_for_backward(torch.from_numpy(np.asarray(slope > 0.5)))
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return torch.where(mask, grad_output, torch.zeros_like(grad_output))
