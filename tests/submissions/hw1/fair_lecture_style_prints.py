"""Fairness: the lecture's ReLU derivative (1 for z >= 0, so 1 at the kink), the older
ctx.saved_variables spelling (still supported by torch), and a submission that prints while it
works (at import, in forward and in backward). Expected: full credit."""

import torch
from torch.autograd import Function

print("functions.py loaded: hello, grader")


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        print("Square.forward", tuple(x.shape))
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_variables
        print("Square.backward", tuple(grad_output.shape))
        return 2 * x * grad_output


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return (v * (A @ v)).sum()

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_variables
        print("QuadraticForm.backward", ctx.needs_input_grad)
        grad_v = grad_output * (A + A.t()) @ v if ctx.needs_input_grad[0] else None
        grad_A = grad_output * v.unsqueeze(1) * v.unsqueeze(0) if ctx.needs_input_grad[1] else None
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        g = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(g)
        return g

    @staticmethod
    def backward(ctx, grad_output):
        (g,) = ctx.saved_variables
        return grad_output * g * (1 - g)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.maximum(z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_variables
        print("ReLU.backward: dg/dz = 1 for z >= 0 (the lecture's convention)")
        return grad_output * (z >= 0).to(grad_output.dtype)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias)
        out = x @ weight.t()
        if bias is not None:
            out = out + bias
        print("Linear.forward", tuple(x.shape), "->", tuple(out.shape))
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_variables
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_w = grad_output.t() @ x
        if bias is not None and ctx.needs_input_grad[2]:
            grad_b = grad_output.sum(0)
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return torch.mean((pred - target) ** 2)

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_variables
        grad = grad_output * 2.0 * (pred - target) / pred.numel()
        return (grad if ctx.needs_input_grad[0] else None, -grad if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        m = logits.amax(dim=1, keepdim=True)
        log_p = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
        n = logits.shape[0]
        if target.dtype == torch.long:
            loss = -log_p[torch.arange(n), target].sum() / n
        else:
            loss = -(target * log_p).sum() / n
        ctx.save_for_backward(log_p, target)
        print("CrossEntropy.forward loss", float(loss))
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        log_p, target = ctx.saved_variables
        n = log_p.shape[0]
        grad = torch.exp(log_p)
        if target.dtype == torch.long:
            grad = grad.clone()
            grad[torch.arange(n), target] -= 1
        else:
            grad = grad * target.sum(dim=1, keepdim=True) - target
        return grad * grad_output / n, None
