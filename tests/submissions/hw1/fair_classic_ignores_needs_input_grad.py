"""Fairness: classic forward(ctx, ...) style, inputs saved, ctx.needs_input_grad never looked at.

Every gradient is computed and returned whether or not autograd asked for it (PyTorch's
"Extending PyTorch" notes call the check optional); only a missing bias and the integer target
get None. Expected: full credit, with a tip that the extra work could be skipped.
"""

import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return torch.dot(v, torch.mv(A, v))

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        return grad_output * torch.mv(A + A.T, v), grad_output * torch.outer(v, v)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        s = 1 / (1 + torch.exp(-z))
        return grad_output * s * (1 - s)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * (z > 0).to(grad_output.dtype)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x @ weight.T
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_bias = grad_output.sum(0) if ctx.has_bias else None
        return grad_output @ weight, grad_output.T @ x, grad_bias


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).sum() / pred.numel()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        grad = 2 * (pred - target) / pred.numel() * grad_output
        return grad, -grad


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        shifted = logits - logits.max(dim=1, keepdim=True).values
        log_p = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
        if target.is_floating_point():
            y = target
        else:
            y = torch.zeros_like(log_p).scatter(1, target.long().unsqueeze(1), 1.0)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        p = torch.exp(log_p)
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / log_p.shape[0], None
