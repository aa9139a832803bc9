"""A correct hw1 submission, written the way a careful student might (not a copy of solutions/).

The planted-mistake files in this folder define only the class they get wrong; a test grades this
file followed by one of them, so the later class definition replaces the correct one and every other
Function stays correct (see tests/test_grading_hw1.py::planted).
"""

import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v @ A @ v

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        grad_v = grad_output * (A + A.t()) @ v if ctx.needs_input_grad[0] else None
        grad_A = grad_output * torch.outer(v, v) if ctx.needs_input_grad[1] else None
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return torch.where(z > 0, grad_output, torch.zeros_like(grad_output))


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_output @ weight if ctx.needs_input_grad[0] else None
        grad_w = grad_output.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_output.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = grad_output * 2 * (pred - target) / pred.numel()
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)


def _one_hot(target, logits):
    """Class indices (N,) -> one-hot rows (N, C); probability rows pass through."""
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        y = _one_hot(target, logits)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        return grad_output * (log_p.exp() - y) / log_p.shape[0], None
