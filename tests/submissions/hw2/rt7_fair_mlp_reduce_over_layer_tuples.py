"""MLP (fair): the layers are folded with functools.reduce over a tuple of (weight name, bias name,
activation follows) tuples, the activation picked by name with
getattr on the given functions object from a literal table; parameters registered with
register_parameter under f-string names in the required order, training with the given Functions."""

import functools
import math

import torch

_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid"}


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be relu or sigmoid, got {activation!r}")
        self.functions = functions
        self.activation = activation
        pairs = list(zip(sizes[:-1], sizes[1:]))
        layers = []
        for d, (n_in, n_out) in enumerate(pairs, start=1):
            bound = 1 / math.sqrt(n_in)
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))
            layers.append((f"weight_{d}", f"bias_{d}", d < len(pairs)))
        self.layers = tuple(layers)

    def _step(self, x, layer):
        weight, bias, activate = layer
        params = dict(self.named_parameters())
        y = self.functions.Linear.apply(x, params[weight], params[bias])
        if activate:
            y = getattr(self.functions, _ACTIVATIONS[self.activation]).apply(y)
        return y

    def forward(self, x):
        return functools.reduce(self._step, self.layers, x)
