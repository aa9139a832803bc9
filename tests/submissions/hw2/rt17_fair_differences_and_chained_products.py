"""rt17 (fair): the first two sections with differences and chained products: count_parameters folded with
functools.reduce, perceptron_predict as 2·[z >= 0] - 1, perceptron_train on Python floats, xor_perceptrons as
lists, relu_interpolant's slopes with torch.diff (and a spare unit at the last knot), step_approximation valued at
the cells' left edges with Tensor.diff (w1 = 2, a scaled step) and a torch.searchsorted sanity check,
collapse_linear as one torch.linalg.multi_dot, feature_map x1², x2², x1·x2 in float64. torch.diff, searchsorted
and multi_dot were not listed: the file lost every check of every task. Expected: full credit."""

import functools
import math

import torch


def count_parameters(layer_sizes):
    return functools.reduce(lambda acc, pair: acc + pair[0] * pair[1] + pair[1], zip(layer_sizes, layer_sizes[1:]), 0)


def perceptron_predict(X, w, b):
    return 2 * (X @ w + b >= 0).to(X.dtype) - 1


def perceptron_train(X, y, epochs):
    w = X.new_zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for i in range(len(X)):
            if float(y[i]) * (float(X[i] @ w) + b) <= 0:
                w = w + y[i] * X[i]
                b += float(y[i])
                mistakes += 1
        if mistakes == 0:
            break
    return w, b


def xor_perceptrons():
    return {"w_A": [1.0, -1.0], "b_A": 1, "w_B": [-1.0, 1.0], "b_B": 1, "w_C": [0.5, 0.5], "b_C": -0.5}


def relu_interpolant(knots_x, knots_y):
    slopes = torch.diff(knots_y) / torch.diff(knots_x)
    change = torch.cat([slopes[:1], torch.diff(slopes), torch.zeros(1, dtype=slopes.dtype)])
    return torch.ones_like(knots_x), -knots_x, change, float(knots_y[0])


def step_approximation(f, lo, hi, tol, lipschitz):
    # cells of width <= tol / L, each valued at its left edge: |f(x) - f(left)| <= L · width <= tol
    n = max(1, math.ceil(lipschitz * (hi - lo) / tol))
    edges = torch.linspace(lo, hi, n + 1, dtype=torch.float64)
    values = f(edges[:-1])
    inner = edges[1:-1]
    assert bool((torch.searchsorted(edges, inner) == torch.arange(1, n)).all())  # the inner edges, in order
    return torch.full((n - 1,), 2.0, dtype=torch.float64), -2.0 * inner, values.diff(), values[0]


def _chain(matrices):
    return matrices[0].clone() if len(matrices) == 1 else torch.linalg.multi_dot(matrices)


def collapse_linear(weights, biases):
    # W = W_L ⋯ W_1 in one chained product; bias d reaches the output through the layers after it
    W = _chain(list(reversed(weights)))
    b = torch.zeros(weights[-1].shape[0], dtype=weights[-1].dtype)
    for d, b_d in enumerate(biases):
        if b_d is not None:
            after = list(reversed(weights[d + 1:]))
            b = b + (_chain(after + [b_d[:, None]])[:, 0] if after else b_d)
    return W, b


def feature_map(X):
    x1, x2 = X[:, 0], X[:, 1]
    return torch.stack([x1 * x1, x2 * x2, x1 * x2], dim=1).double()
