"""collapse_linear multiplies the weight matrices in the wrong order (W_1 W_2 instead of W_2 W_1)."""

import torch


def collapse_linear(weights, biases):
    W = weights[0].clone()
    b = biases[0].clone() if biases[0] is not None else torch.zeros(W.shape[0], dtype=W.dtype)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W = W @ W_next  # mistake: later layers multiply on the left
        b = W_next @ b
        if b_next is not None:
            b = b + b_next
    return W, b
