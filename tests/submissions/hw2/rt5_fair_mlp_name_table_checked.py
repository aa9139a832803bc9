"""MLP (fair): the activation's name comes from a module-level dict of written-out names, and __init__
checks the argument against that same dict (`activation not in _ACTIVATION`) before using it as
getattr(functions, _ACTIVATION[activation]). Every NAME the getattr can see is one of the handed
Functions; a membership test on the dict changes none of its values."""

import math

import torch

_ACTIVATION = {"relu": "ReLU", "sigmoid": "Sigmoid"}


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        if activation not in _ACTIVATION:
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.functions, self.activation, self.depth = functions, activation, len(sizes) - 1
        for d in range(1, len(sizes)):
            bound = 1 / math.sqrt(sizes[d - 1])
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(
                torch.empty(sizes[d], sizes[d - 1]).uniform_(-bound, bound)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        g = getattr(self.functions, _ACTIVATION[self.activation])
        for d in range(1, self.depth + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < self.depth:
                x = g.apply(x)
        return x
