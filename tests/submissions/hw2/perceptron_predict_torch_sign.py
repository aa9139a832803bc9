"""perceptron_predict uses torch.sign, which is 0 (not +1) on the boundary."""

import torch


def perceptron_predict(X, w, b):
    return torch.sign(X @ w + b)  # mistake: the lecture's sign(0) is +1
