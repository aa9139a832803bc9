"""Fairness: a numpy-minded forward for Square and Linear: it reads its inputs as numpy arrays, computes
the output in numpy, and saves the arrays it used as tensors again (``torch.from_numpy``: the same memory
as the inputs). Backward is torch only on those saved inputs. Expected: full credit."""
import numpy as np
import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        a = x.detach().numpy()
        ctx.save_for_backward(torch.from_numpy(a))
        return torch.from_numpy(np.asarray(a * a))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        a, w = x.detach().numpy(), weight.detach().numpy()
        ctx.save_for_backward(torch.from_numpy(a), torch.from_numpy(w))
        ctx.has_bias = bias is not None
        out = a @ w.T
        if bias is not None:
            out = out + bias.detach().numpy()
        return torch.from_numpy(np.asarray(out))

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_output @ weight if ctx.needs_input_grad[0] else None
        grad_w = grad_output.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_output.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
