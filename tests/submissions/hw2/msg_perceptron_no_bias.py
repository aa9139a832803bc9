"""perceptron_train updates w on every mistake but never b."""

import torch


def perceptron_train(X, y, epochs):
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w + b) <= 0:
                w = w + y_i * x_i  # mistake: b is never updated
                updated = True
        if not updated:
            break
    return w, b
