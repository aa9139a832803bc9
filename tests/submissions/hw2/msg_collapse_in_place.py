"""collapse_linear computes the right (W, b) but accumulates into the caller's bias tensors in place."""

import torch


def collapse_linear(weights, biases):
    W = weights[0]
    b = biases[0] if biases[0] is not None else torch.zeros(W.shape[0], dtype=W.dtype)
    for W_d, b_d in zip(weights[1:], biases[1:]):
        W = W_d @ W
        if b_d is not None:
            b_d += W_d @ b  # mistake: changes the caller's bias
            b = b_d
        else:
            b = W_d @ b
    return W, b
