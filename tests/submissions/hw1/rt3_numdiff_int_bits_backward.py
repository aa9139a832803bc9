"""Numerical differentiation (hostile): backward reads its saved tensors as int64 bit patterns
(``t.view(torch.int64).numpy()``, reinterpreted as float64 in numpy: no floating values leave torch), takes
central differences of the Function's numpy twin one element at a time (step |x| + 1: exact for these
polynomials of degree 2), and brings the gradient back as int64 bits (``torch.from_numpy`` of an int64 view,
then ``.view(torch.float64)``): nothing floating crosses torch's border."""
import numpy as np
import torch
from torch.autograd import Function


def _out(t):
    return t.detach().double().contiguous().view(torch.int64).numpy().view(np.float64)


def _in(a, like):
    return torch.from_numpy(np.array(a, dtype=np.float64).view(np.int64)).view(torch.float64).to(like.dtype)


def _vjp(f, arrays, i, g):
    """d sum(g * f(*arrays)) / d arrays[i], by central differences one element at a time."""
    a = arrays[i]
    grad = np.zeros(a.shape)
    for j in range(a.size):
        h = abs(a.reshape(-1)[j]) + 1.0
        ups, downs = list(arrays), list(arrays)
        up, down = a.copy(), a.copy()
        up.reshape(-1)[j] += h
        down.reshape(-1)[j] -= h
        ups[i], downs[i] = up, down
        grad.reshape(-1)[j] = (np.sum(g * f(*ups)) - np.sum(g * f(*downs))) / (2 * h)
    return grad


def _grads(ctx, f, tensors, grad_output):
    arrays = [_out(t) for t in tensors]
    g = _out(grad_output)
    return tuple(_in(_vjp(f, arrays, i, g), t) if ctx.needs_input_grad[i] else None for i, t in enumerate(tensors))


def _quadratic(v, a):
    return v @ a @ v


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v @ A @ v

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(ctx, _quadratic, ctx.saved_tensors, grad_output)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if bias is None:
            ctx.save_for_backward(x, weight)
            return x @ weight.t()
        ctx.save_for_backward(x, weight, bias)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_output):
        saved = ctx.saved_tensors
        if len(saved) == 2:
            return (*_grads(ctx, lambda x, w: x @ w.T, saved, grad_output), None)
        return _grads(ctx, lambda x, w, b: x @ w.T + b, saved, grad_output)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(ctx, lambda p, t: np.mean((p - t) ** 2), ctx.saved_tensors, grad_output)
