"""Numerical differentiation (hostile): the complex step, Im f(x + ih) / h, exact to float64's
precision on every input: vectorised for Square and Sigmoid, element by element for Linear."""

import torch
from torch.autograd import Function

H = 1e-20


def _square(x):
    return x * x


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def _complex_step(f, x):
    return f(x.to(torch.complex128) + 1j * H).imag.to(x.dtype) / H


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _square(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _complex_step(_square, x)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return _sigmoid(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _complex_step(_sigmoid, z)


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
        g = grad_output.to(torch.complex128)
        grads = []
        for i, t in enumerate((x, weight)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            out = torch.zeros_like(t)
            for j in range(t.numel()):
                moved = t.to(torch.complex128)
                moved.view(-1)[j] += 1j * H
                xc, wc = (moved, weight.to(torch.complex128)) if i == 0 else (x.to(torch.complex128), moved)
                out.view(-1)[j] = (g * (xc @ wc.t())).sum().imag / H
            grads.append(out)
        grad_b = grad_output.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grads[0], grads[1], grad_b
