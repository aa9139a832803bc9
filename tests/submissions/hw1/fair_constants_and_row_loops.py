"""Fairness: correct Functions that touch torch's border honestly — constants brought in with
torch.tensor / new_tensor, a constant saved with save_for_backward, a module-level constant tensor,
Python numbers from the upstream gradient (.item()) and from shapes, integer class labels read as a
list (.tolist()), loops over rows that write each row (and write a constant into some elements), and
a forward computed in numpy whose output backward uses. Every gradient is still computed with tensor
operations. Expected: full credit, no "outside torch" line.
"""

import numpy as np
import torch
from torch.autograd import Function

HALF = torch.tensor(0.5, dtype=torch.float64)  # built when the file is imported


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, torch.tensor(2.0, dtype=x.dtype))  # a constant, saved honestly
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        x, two = ctx.saved_tensors
        return grad_output * two * x


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v @ A @ v

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        half = HALF.to(v.dtype)
        sym = (A + A.t()) / half.reciprocal()  # (A + Aᵀ) / 2, written the long way
        grad_v = grad_output * 2 * sym @ v if ctx.needs_input_grad[0] else None
        grad_A = grad_output * torch.outer(v, v) if ctx.needs_input_grad[1] else None
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        a = z.detach().cpu().numpy()
        e = np.exp(-np.abs(a))
        s = torch.from_numpy(np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype)).to(z.device)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        one = s.new_tensor(1.0)
        return grad_output * s * (one - s)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        if z.dim() < 2:
            return torch.where(z > 0, grad_output, 0.0)
        grad = grad_output.clone()
        for i in range(z.shape[0]):  # one row at a time
            grad[i] = torch.where(z[i] > 0, grad_output[i], 0.0)
            grad[i][z[i] == 0] = 0.0
        return grad


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
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = torch.zeros_like(weight)
            for i in range(x.shape[0]):  # one outer product per example, summed
                grad_w += torch.outer(grad_output[i], x[i])
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
        scale = 2.0 * grad_output.item() / max(1, pred.numel())  # Python numbers: upstream and size
        d = scale * (pred - target)
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_p, target)
        if target.is_floating_point():
            return -(target * log_p).sum() / logits.shape[0]
        return -log_p[torch.arange(logits.shape[0]), target].sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, target = ctx.saved_tensors
        grad = log_p.exp()
        if target.is_floating_point():
            grad = grad - target
        else:
            for i, label in enumerate(target.tolist()):  # integer labels, read as a list
                grad[i, label] -= 1.0
        return grad_output * grad / log_p.shape[0], None
