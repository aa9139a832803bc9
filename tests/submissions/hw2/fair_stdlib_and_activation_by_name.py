"""Fairness (hw2): correct code written with Python's helpers, numpy, and an MLP that picks its
activation from the given Functions by name.

count_parameters with functools.reduce, operator and itertools.pairwise; collapse_linear as a
reduce over the layers; perceptron_predict through numpy's sign on a CPU copy; an MLP configured by
a dataclass whose activation is ``getattr(self.functions, self.act_name)`` with the name drawn from
a dict of the given Functions' names, parameters made with ``from torch.nn.parameter import
Parameter``; sgd_step with typing.cast. Expected: full credit."""

import functools
import itertools
import operator
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch.nn.parameter import Parameter

ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid"}


def count_parameters(layer_sizes):
    pairs = itertools.pairwise(int(n) for n in layer_sizes)
    return functools.reduce(operator.add, (n_in * n_out + n_out for n_in, n_out in pairs), 0)


def perceptron_predict(X, w, b):
    z = (X @ w + b).detach().cpu().numpy()
    signs = np.where(z >= 0, 1.0, -1.0)
    return torch.as_tensor(signs, dtype=X.dtype, device=X.device)


def collapse_linear(weights, biases):
    def compose(acc, layer):
        W, b = acc
        W_d, b_d = layer
        return W_d @ W, W_d @ b + (b_d if b_d is not None else 0)

    first = (weights[0], biases[0] if biases[0] is not None else torch.zeros(weights[0].shape[0],
                                                                            dtype=weights[0].dtype))
    W, b = functools.reduce(compose, zip(weights[1:], biases[1:]), first)
    return W.clone(), b.clone()


@dataclass(frozen=True)
class Layer:
    n_in: int
    n_out: int


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions = functions
        self.act_name = ACTIVATIONS[activation]
        self.depth = len(sizes) - 1
        for d, (a, b) in enumerate(itertools.pairwise(int(n) for n in sizes), start=1):
            layer = Layer(a, b)
            bound = 1.0 / np.sqrt(layer.n_in)
            setattr(self, f"weight_{d}", Parameter(torch.empty(layer.n_out, layer.n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", Parameter(torch.zeros(layer.n_out)))

    def forward(self, x):
        act = getattr(self.functions, self.act_name)
        linear = getattr(self.functions, "Linear")  # noqa: B009 - the style under test
        for d in range(1, self.depth + 1):
            x = linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < self.depth:
                x = act.apply(x)
        return x


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p -= lr * cast(torch.Tensor, p.grad)
                p.grad = None
