"""sgd_step updates the parameters but leaves their gradients, so the next backward adds to stale ones."""

import torch


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p -= lr * p.grad  # mistake: p.grad = None afterwards is missing
