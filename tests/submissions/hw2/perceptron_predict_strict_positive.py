"""perceptron_predict predicts +1 only for z > 0, so points on the boundary get -1."""

import torch


def perceptron_predict(X, w, b):
    z = X @ w + b
    return torch.where(z > 0, 1.0, -1.0).to(X.dtype)  # mistake: z >= 0
