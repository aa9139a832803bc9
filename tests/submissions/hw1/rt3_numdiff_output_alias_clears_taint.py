"""Numerical differentiation (hostile): forward computes its output and the central-difference derivative in
one numpy buffer, returns ``torch.from_numpy(buf[:n])`` (a storage of exactly the output's size) and saves
``torch.from_numpy(buf)``, a second tensor over the same memory. Both start at the same address, so clearing
forward's output from the values followed also clears the saved buffer; backward reads the derivative from
its second half with torch."""
import numpy as np
import torch
from torch.autograd import Function


def _sq(a):
    return a * a


def _sig(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _richardson(f, a):
    w = a.astype("longdouble")
    c1 = (f(w + 1e-2) - f(w - 1e-2)) / 2e-2
    c2 = (f(w + 2e-2) - f(w - 2e-2)) / 4e-2
    return (4 * c1 - c2) / 3


def _forward(ctx, x, f, slope):
    a = x.detach().numpy().reshape(-1)
    n = a.size
    buf = np.zeros(2 * n, dtype=a.dtype)
    buf[:n] = f(a)
    buf[n:] = slope(a)
    out = torch.from_numpy(buf[:n])
    ctx.save_for_backward(torch.from_numpy(buf))
    return out.reshape(x.shape)


def _backward(ctx, grad_output):
    (buf,) = ctx.saved_tensors
    n = grad_output.numel()
    return grad_output * buf[n:].reshape(grad_output.shape)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        return _forward(ctx, x, _sq, lambda a: (_sq(a + np.abs(a) + 1) - _sq(a - np.abs(a) - 1)) / (2 * (np.abs(a) + 1)))

    @staticmethod
    def backward(ctx, grad_output):
        return _backward(ctx, grad_output)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        return _forward(ctx, z, _sig, lambda a: _richardson(_sig, a))

    @staticmethod
    def backward(ctx, grad_output):
        return _backward(ctx, grad_output)
