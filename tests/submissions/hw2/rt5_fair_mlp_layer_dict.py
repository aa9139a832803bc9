"""MLP (fair): each layer is a small Module of its own holding its weight and bias, kept in a
torch.nn.ModuleDict keyed "layer1", "layer2", ...; the list of steps is built backwards (reversed
range, then reversed again) and applied with a plain loop. Every step is a given Function's .apply."""

import math

import torch


class _Layer(torch.nn.Module):
    def __init__(self, n_in, n_out, linear):
        super().__init__()
        bound = 1 / math.sqrt(n_in)
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))
        self.linear = linear

    def forward(self, x):
        return self.linear.apply(x, self.weight, self.bias)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.act = functions.ReLU if activation == "relu" else functions.Sigmoid
        self.layers = torch.nn.ModuleDict({f"layer{d}": _Layer(sizes[d - 1], sizes[d], functions.Linear)
                                           for d in range(1, len(sizes))})

    def forward(self, x):
        depth = len(self.layers)
        steps = []
        for d in reversed(range(1, depth + 1)):
            if d < depth:
                steps.append(self.act.apply)
            steps.append(self.layers[f"layer{d}"])
        for step in reversed(steps):
            x = step(x)
        return x
