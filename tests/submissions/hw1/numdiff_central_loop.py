"""Numerical differentiation (hostile): every backward nudges one input element at a time by ±h and
re-runs forward's formula (central finite differences, h = 1e-6). No derivative is written anywhere;
it must earn no backward, gradcheck or edge credit."""

import torch
from torch.autograd import Function

H = 1e-6


def square(x):
    return x * x


def quadratic_form(v, A):
    return v @ A @ v


def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def relu(z):
    return torch.where(z > 0, z, torch.zeros_like(z))


def linear(x, weight, bias=None):
    y = x @ weight.t()
    return y if bias is None else y + bias


def squared_error(pred, target):
    return ((pred - target) ** 2).mean()


def cross_entropy(logits, target):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    y = target if target.is_floating_point() else torch.zeros_like(logits).scatter(1, target[:, None], 1.0)
    return -(y * log_p).sum() / logits.shape[0]


def numerical_grads(f, inputs, needs, grad_output):
    """dJ/d(input) for each input by central differences: J = sum(grad_output * f(...))."""
    grads = []
    for i, x in enumerate(inputs):
        if not needs[i] or x is None or not x.is_floating_point():
            grads.append(None)
            continue
        g = torch.zeros_like(x)
        flat = g.view(-1)
        for j in range(x.numel()):
            moved = list(inputs)
            plus = x.clone()
            plus.view(-1)[j] += H
            moved[i] = plus
            up = (grad_output * f(*moved)).sum()
            minus = x.clone()
            minus.view(-1)[j] -= H
            moved[i] = minus
            down = (grad_output * f(*moved)).sum()
            flat[j] = (up - down) / (2 * H)
        grads.append(g)
    return tuple(grads)


def make(f, n_inputs):
    class Numerical(Function):
        @staticmethod
        def forward(ctx, *inputs):
            ctx.save_for_backward(*[x if isinstance(x, torch.Tensor) else None for x in inputs])
            return f(*inputs)

        @staticmethod
        def backward(ctx, grad_output):
            return numerical_grads(f, list(ctx.saved_tensors), ctx.needs_input_grad, grad_output)

    return Numerical


class Square(make(square, 1)):
    pass


class QuadraticForm(make(quadratic_form, 2)):
    pass


class Sigmoid(make(sigmoid, 1)):
    pass


class ReLU(make(relu, 1)):
    pass


class Linear(make(linear, 3)):
    pass


class SquaredError(make(squared_error, 2)):
    pass


class CrossEntropy(make(cross_entropy, 2)):
    pass
