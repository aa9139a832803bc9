"""Fairness: correct Functions whose backward loops over rows or recomputes from the saved input.

Not numerical differentiation: Sigmoid recomputes g(z) from the saved input z and writes the
derivative g(z)(1 - g(z)); Linear, SquaredError and CrossEntropy build their gradients one
row (one example) at a time; CrossEntropy recomputes softmax from the saved logits; Square returns
x + x times grad_output. Expected: full credit, no numerical-differentiation finding."""

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
        return (x + x) * grad_output


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return torch.dot(v, torch.mv(A, v))

    @staticmethod
    def backward(ctx, g):
        v, A = ctx.saved_tensors
        grad_v = g * (torch.mv(A, v) + torch.mv(A.t(), v)) if ctx.needs_input_grad[0] else None
        grad_A = g * v.unsqueeze(1) * v.unsqueeze(0) if ctx.needs_input_grad[1] else None
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        s = 1 / (1 + torch.exp(-z))  # forward's formula again, at the same z (not a numerical derivative)
        return grad_output * s * (1 - s)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z > 0)
        return z * (z > 0)

    @staticmethod
    def backward(ctx, grad_output):
        (on,) = ctx.saved_tensors
        return grad_output * on


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias)
        rows = [x[n] @ weight.t() for n in range(x.shape[0])]
        y = torch.stack(rows)
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(weight) if ctx.needs_input_grad[1] else None
        grad_b = torch.zeros_like(bias) if bias is not None and ctx.needs_input_grad[2] else None
        for n in range(x.shape[0]):  # one example at a time: dJ/dW += g_nᵀ x_n
            g = grad_output[n]
            if grad_x is not None:
                grad_x[n] = g @ weight
            if grad_w is not None:
                grad_w = grad_w + torch.outer(g, x[n])
            if grad_b is not None:
                grad_b = grad_b + g
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        diff = (pred - target).reshape(-1)
        return (diff * diff).sum() / diff.numel()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        m = pred.numel()
        if pred.dim() < 2:
            d = 2 * (pred - target) / m * grad_output
        else:
            d = torch.stack([2 * (pred[n] - target[n]) / m * grad_output for n in range(pred.shape[0])])
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        ctx.save_for_backward(logits, target)
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        if target.is_floating_point():
            return -(target * log_p).sum() / logits.shape[0]
        return -log_p.gather(1, target.long().unsqueeze(1)).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        n = logits.shape[0]
        rows = []
        for i in range(n):  # recompute softmax from the saved logits, one example at a time
            p = torch.exp(logits[i] - torch.logsumexp(logits[i], dim=0))
            y = target[i] if target.is_floating_point() else torch.zeros_like(p).scatter(0, target[i].long().view(1), 1.0)
            rows.append((p * y.sum() - y) / n)
        return grad_output * torch.stack(rows), None
