"""Fairness: Sigmoid and ReLU whose forward computes the output in numpy (allowed) and then, in torch, caches
the local derivative from that output for backward: s * (1 - s) for the sigmoid, the 0/1 mask (out > 0) for
ReLU. The derivative is computed with tensor operations on forward's own output; backward multiplies it by
grad_output. Expected: full credit."""
import numpy as np
import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        a = z.detach().cpu().numpy()
        e = np.exp(-np.abs(a))
        s = torch.from_numpy(np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype)).to(z.device)
        ctx.save_for_backward(s * (1 - s))  # the local slope, from the output, in torch
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        out = torch.from_numpy(np.asarray(np.maximum(z.detach().cpu().numpy(), 0))).to(z.device)
        ctx.save_for_backward((out > 0).to(out.dtype))  # the mask, from the output, in torch
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask
