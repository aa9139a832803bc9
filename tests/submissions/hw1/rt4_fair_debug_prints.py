"""Fairness: a student debugging backward: prints the saved tensors (``print(x)``), an f-string with the
upstream gradient and a formatted norm (``f"{x.norm():.4f}"``), under torch.set_printoptions precision. The
gradient itself is computed in torch. Expected: full credit."""
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
        print("Sigmoid.backward: s =", s)
        print(f"grad_output={grad_output} |s|={s.norm():.4f} max={s.max():.6g}")
        return grad_output * s * (1 - s)


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
        print(f"Linear.backward x{tuple(x.shape)} W{tuple(weight.shape)}\n{x}\n{weight!r}\n{grad_output!s}")
        grad_x = grad_output @ weight if ctx.needs_input_grad[0] else None
        grad_w = grad_output.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_output.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
