"""MLP (hostile): calls each given Function on the layer's real input, then keeps only the numbers of
what it returned (``.detach()``) and computes the graph with primitives: the output's values carry
every call's mark, but no gradient flows back through the Functions handed in. It must earn nothing
for the MLP's data flow."""

import math

import torch


def _borrow(value, computed):
    """value's numbers, computed's graph."""
    return value.detach() + (computed - computed.detach())


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes = list(sizes)
        self.activation = activation
        self.functions = functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            w, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            x = _borrow(fns.Linear.apply(x, w, b), x @ w.t() + b)
            if d < layers:
                plain = x.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-x))
                x = _borrow(act.apply(x), plain)
        return x
