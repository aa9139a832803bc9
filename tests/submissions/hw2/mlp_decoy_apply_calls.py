"""MLP (hostile): calls each given Function's .apply once per layer on a throw-away tensor — the call
counts look right — and computes the real output with primitives beside them. It must earn nothing
for the MLP's data flow: the Functions handed in do not carry its computation."""

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
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            w, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            fns.Linear.apply(torch.zeros(1, w.shape[1], dtype=w.dtype), w, b)  # decoy: result thrown away
            x = x @ w.t() + b
            if d < layers:
                act.apply(torch.zeros(1, dtype=x.dtype))  # decoy
                x = x.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-x))
        return x
