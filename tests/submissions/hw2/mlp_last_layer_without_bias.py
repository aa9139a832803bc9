"""MLP.forward passes no bias to the last layer (the output layer keeps its bias too)."""

import math

import torch
import torch.nn.functional as F


class TorchFunctions:
    class Linear:
        apply = staticmethod(F.linear)

    class ReLU:
        apply = staticmethod(torch.relu)

    class Sigmoid:
        apply = staticmethod(torch.sigmoid)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=TorchFunctions):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"unknown activation {activation!r}")
        self.activation, self.functions, self.depth = activation, functions, len(sizes) - 1
        for d in range(1, len(sizes)):
            bound = 1 / math.sqrt(sizes[d - 1])
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(
                torch.empty(sizes[d], sizes[d - 1]).uniform_(-bound, bound)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        g = self.functions.ReLU if self.activation == "relu" else self.functions.Sigmoid
        for d in range(1, self.depth + 1):
            bias = getattr(self, f"bias_{d}") if d < self.depth else None  # mistake: every layer has a bias
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), bias)
            if d < self.depth:
                x = g.apply(x)
        return x
