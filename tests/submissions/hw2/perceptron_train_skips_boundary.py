"""perceptron_train does not update on points that lie exactly on the boundary (y (w·x + b) = 0)."""

import torch


def perceptron_train(X, y, epochs):
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        mistakes = 0
        for i in range(X.shape[0]):
            if y[i] * (X[i] @ w + b) < 0:  # mistake: <= 0 (starting from w = 0 nothing is ever updated)
                w = w + y[i] * X[i]
                b = b + y[i]
                mistakes += 1
        if mistakes == 0:
            break
    return w, b
