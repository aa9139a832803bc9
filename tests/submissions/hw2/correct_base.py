"""A correct hw2 submission, written the way a careful student might (not a copy of solutions/).

The planted-mistake files in this folder define only the function or class they get wrong; a test
grades this file followed by one of them, so the later definition replaces the correct one and every
other task stays correct (see tests/test_hw2.py::planted).
"""

import math

import torch
import torch.nn.functional as F


def count_parameters(layer_sizes):
    sizes = list(layer_sizes)
    return int(sum(a * b + b for a, b in zip(sizes, sizes[1:])))


def perceptron_predict(X, w, b):
    z = X @ w + b
    return torch.where(z >= 0, 1.0, -1.0).to(X.dtype)


def perceptron_train(X, y, epochs):
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        mistakes = 0
        for i in range(X.shape[0]):
            if y[i] * (X[i] @ w + b) <= 0:
                w = w + y[i] * X[i]
                b = b + y[i]
                mistakes += 1
        if mistakes == 0:
            break
    return w, b


def xor_perceptrons():
    # h_A is -1 only near (-1, -1), h_B only near (1, 1); the label is +1 exactly where they differ
    return {
        "w_A": torch.tensor([1.0, 1.0]), "b_A": 1.0,
        "w_B": torch.tensor([-1.0, -1.0]), "b_B": 1.0,
        "w_C": torch.tensor([-1.0, -1.0]), "b_C": 1.0,
    }


def relu_interpolant(knots_x, knots_y):
    x, y = knots_x.double(), knots_y.double()
    slopes = (y[1:] - y[:-1]) / (x[1:] - x[:-1])
    changes = torch.cat([slopes[:1], slopes[1:] - slopes[:-1]])
    return torch.ones_like(changes), -x[:-1], changes, y[0].clone()


def step_approximation(f, lo, hi, tol, lipschitz):
    cells = max(1, math.ceil(lipschitz * (hi - lo) / tol))
    width = (hi - lo) / cells
    mids = lo + width * (torch.arange(cells, dtype=torch.float64) + 0.5)
    heights = f(mids).double()
    edges = lo + width * torch.arange(1, cells, dtype=torch.float64)
    return torch.ones_like(edges), -edges, heights[1:] - heights[:-1], heights[0].clone()


def collapse_linear(weights, biases):
    W = weights[0].clone()
    b = biases[0].clone() if biases[0] is not None else torch.zeros(W.shape[0], dtype=W.dtype)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W = W_next @ W
        b = W_next @ b
        if b_next is not None:
            b = b + b_next
    return W, b


class TorchFunctions:
    class Linear:
        apply = staticmethod(F.linear)

    class ReLU:
        apply = staticmethod(torch.relu)

    class Sigmoid:
        apply = staticmethod(torch.sigmoid)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=TorchFunctions):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"unknown activation {activation!r}")
        self.activation, self.functions, self.depth = activation, functions, len(sizes) - 1
        for d in range(1, len(sizes)):
            bound = 1 / math.sqrt(sizes[d - 1])
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(
                torch.empty(sizes[d], sizes[d - 1]).uniform_(-bound, bound)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        g = self.functions.ReLU if self.activation == "relu" else self.functions.Sigmoid
        for d in range(1, self.depth + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < self.depth:
                x = g.apply(x)
        return x


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None


def train_epoch(model, batches, loss_fn, lr):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model.parameters(), lr)
        losses.append(loss.item())
    return sum(losses) / len(losses) if losses else 0.0


def feature_map(X):
    # the lecture's quadratic features: x1, x2, x1², x2², x1·x2 (the circle is x1² + x2² = const)
    x1, x2 = X[:, 0], X[:, 1]
    return torch.stack([x1, x2, x1 * x1, x2 * x2, x1 * x2], dim=1)
