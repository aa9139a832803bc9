"""MLP (honest, refused: a documented limit of the gate's language): the layers are folded with
functools.reduce over a tuple of small frozen dataclasses (one per layer: its parameter names and whether an
activation follows); reduce hands each to ``_step``, which reads the fields (``layer.weight``, ``layer.bias``,
``layer.activate``) off its parameter. The gate cannot tell ``layer`` from a tensor or array with an attribute
of that name, so it refuses each read, with a line saying to keep per-layer data in a tuple, list or dict."""

import functools
import math
from dataclasses import dataclass

import torch

_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid"}


@dataclass(frozen=True)
class _Layer:
    weight: str
    bias: str
    activate: bool


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
            layers.append(_Layer(f"weight_{d}", f"bias_{d}", d < len(pairs)))
        self.layers = tuple(layers)

    def _step(self, x, layer):
        params = dict(self.named_parameters())
        y = self.functions.Linear.apply(x, params[layer.weight], params[layer.bias])
        if layer.activate:
            y = getattr(self.functions, _ACTIVATIONS[self.activation]).apply(y)
        return y

    def forward(self, x):
        return functools.reduce(self._step, self.layers, x)
