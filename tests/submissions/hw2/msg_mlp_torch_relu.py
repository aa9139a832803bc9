"""MLP computes the right numbers with torch.relu instead of the activation Function it is given."""

import math

import torch


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
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < layers:
                x = torch.relu(x) if self.activation == "relu" else torch.sigmoid(x)  # mistake: not the given Functions
        return x
