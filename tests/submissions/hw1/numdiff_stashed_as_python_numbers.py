"""Numerical differentiation (hostile): forward keeps its input as Python floats on ctx (no tensor, so no
save_for_backward rule applies); backward differentiates them by central differences and writes each
derivative into a tensor one Python number at a time. No values leave torch in backward."""
import math

import torch
from torch.autograd import Function

H = 1e-6


def _sig(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _grad(ctx, grad_output, f):
    g = torch.empty_like(grad_output).reshape(-1)
    flat = grad_output.reshape(-1)
    for i, v in enumerate(ctx.values):
        g[i] = flat[i] * ((f(v + H) - f(v - H)) / (2 * H))
    return g.reshape(grad_output.shape)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.values = x.detach().reshape(-1).tolist()
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return _grad(ctx, grad_output, lambda v: v * v)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.values = z.detach().reshape(-1).tolist()
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        return _grad(ctx, grad_output, _sig)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.values = z.detach().reshape(-1).tolist()
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        return _grad(ctx, grad_output, lambda v: max(v, 0.0))
