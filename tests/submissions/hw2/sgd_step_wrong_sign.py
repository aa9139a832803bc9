"""sgd_step walks uphill: it adds the gradient instead of subtracting it."""

import torch


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p += lr * p.grad  # mistake: p -= lr * p.grad
                p.grad = None
