"""MLP (fair): parameters in one torch.nn.ParameterList (weight_1, bias_1, weight_2, ... in order), the
activation picked by getattr(functions, NAME) from a dict of names, and forward written recursively from
the last layer back to the first with functools.reduce over the layer indices. Every layer's output is
what the given Functions return."""

import functools
import math

import torch

_ACTIVATION = {"relu": "ReLU", "sigmoid": "Sigmoid"}


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.functions = functions
        self.activation = activation
        self.depth = len(sizes) - 1
        params = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(n_in)
            params.append(torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            params.append(torch.nn.Parameter(torch.zeros(n_out)))
        self.params = torch.nn.ParameterList(params)

    def _layer(self, d, x):
        """Layer d (0-based) of the network on its input."""
        w, b = self.params[2 * d], self.params[2 * d + 1]
        z = self.functions.Linear.apply(x, w, b)
        if d == self.depth - 1:
            return z
        return getattr(self.functions, _ACTIVATION[self.activation]).apply(z)

    def _through(self, d, x):
        """Layers 0..d, written as 'the last layer applied to what the ones before it made'."""
        return x if d < 0 else self._layer(d, self._through(d - 1, x))

    def forward(self, x):
        direct = self._through(self.depth - 1, x)
        return functools.reduce(lambda acc, d: acc, [], direct)
