"""Honest (unusual style): backward written in numpy, analytically, as PyTorch's own "Extending with
numpy" tutorial does — the derivative formula s(1 - s), not a numerical one. Full credit; the grader
cannot see numpy's arithmetic, so the course's staff get a review-by-hand note for it (no points lost)."""
import numpy as np
import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        a = s.detach().cpu().numpy()
        g = grad_output.detach().cpu().numpy()
        return torch.from_numpy(np.asarray(g * a * (1 - a))).to(grad_output.device)
