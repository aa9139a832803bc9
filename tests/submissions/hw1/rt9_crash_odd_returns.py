# rt9 (crash): Functions that return what no Function should: a generator from forward, a dict, a recursion that
# ends in RecursionError, a backward that yields its gradients (a generator), one that returns too many, and a
# loss that returns a complex 0-dim tensor. Grading must end with a result (in-process too, as the notebook's
# check runs it) in which each of them earns nothing and the correct Functions keep their credit.
import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        return (v for v in [x * x])

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v @ A @ v

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        return grad_output * (A + A.t()) @ v, grad_output * torch.outer(v, v), grad_output, grad_output


def _deep(z, n):
    return _deep(z + 0, n + 1)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        return _deep(z, 0)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        return {"out": z.clamp(min=0)}

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + (bias if bias is not None else 0)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        yield grad_output @ weight
        yield grad_output.t() @ x
        yield grad_output.sum(0)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean().to(torch.complex128)

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = grad_output * 2 * (pred - target) / pred.numel()
        return d, -d
