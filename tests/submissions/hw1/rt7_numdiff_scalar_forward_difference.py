"""Numerical differentiation (hostile), torch only, one element at a time and one-sided: ReLU's backward loops
over the input's elements and takes the forward difference (f(z[i] + h) - f(z[i])) / h of a 0-dim element with
the relative step h = |z[i]| / 2, f(z[i]) evaluated on the view z[i] itself. Only one nudged number per element
(z[i] + h) is made, so no two numbers straddle z[i] (numdiff_scalar pairs central differences only); the step
never crosses the kink, so the slope is exactly 0 or 1 and every accuracy case passes."""

import torch
from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        flat = z.reshape(-1)
        slopes = []
        for i in range(flat.numel()):
            zi = flat[i]
            h = zi.abs() / 2
            ahead, here = (zi + h).clamp(min=0), zi.clamp(min=0)
            slopes.append(torch.where(h > 0, (ahead - here) / h.clamp(min=1e-300), torch.zeros_like(zi)))
        return grad_output * torch.stack(slopes).reshape(z.shape).to(z.dtype)
