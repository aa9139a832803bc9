"""Networks built from an implementation's Functions (``fns.Linear.apply`` and friends).

The parameters live in ordinary ``nn.Parameter`` tensors; only the arithmetic goes through the
chosen implementation, so the same weights can be run with the solutions, a student's file or
torch's built-ins (that is how ``compare`` and the torch-vs-solutions test line them up).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course_nn.choices import ACTIVATIONS, MODELS, parse_hidden  # noqa: F401 - names used by trainer/compare
from course_nn.impl import Functions
from course_nn.train import features as feature_maps


class Affine(nn.Module):
    """The parameters of one Linear layer: weight (out, in), bias (out,).

    Initialised like ``torch.nn.Linear``: W, b ~ U(-1/√in, 1/√in), drawn from ``gen`` so that a
    seed fixes them.
    """

    def __init__(self, n_in: int, n_out: int, gen: torch.Generator) -> None:
        super().__init__()
        bound = 1 / math.sqrt(n_in)
        self.weight = nn.Parameter((torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound)
        self.bias = nn.Parameter((torch.rand(n_out, generator=gen) * 2 - 1) * bound)


class Network(nn.Module):
    """An MLP (or, with no hidden layers, logistic/linear regression) over ``fns``.

    sizes = [in, h1, ..., hk, out]; layer i computes a_i = g(a_{i-1} W_iᵀ + b_i) with g the
    activation on hidden layers and no activation on the last (it returns logits / predictions).
    With ``features`` other than "raw" the inputs x first become φ(x) (course_nn/train/features.py),
    so sizes[0] is the number of features and the network still takes the raw x.
    Layer names for dashboards are "layer1" ... "layer{k+1}".
    """

    def __init__(self, fns: Functions, sizes: list[int], activation: str, gen: torch.Generator,
                 features: str = "raw") -> None:
        super().__init__()
        self.fns = fns
        self.sizes = list(sizes)
        self.activation = activation
        self.features = features
        self.layers = nn.ModuleList(Affine(a, b, gen) for a, b in zip(sizes[:-1], sizes[1:]))

    @property
    def layer_names(self) -> list[str]:
        return [f"layer{i + 1}" for i in range(len(self.layers))]

    def layer_weights(self) -> list[tuple[str, torch.Tensor]]:
        """(dashboard name, weight matrix) of every layer, input side first."""
        return [(name, layer.weight) for name, layer in zip(self.layer_names, self.layers)]

    def _act(self, z: torch.Tensor) -> torch.Tensor:
        return self.fns.ReLU.apply(z) if self.activation == "relu" else self.fns.Sigmoid.apply(z)

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output: [h1, ..., hk, out], x (N, in) -> h_i (N, size_i)."""
        outputs = []
        x = feature_maps.apply(self.features, x)
        for i, layer in enumerate(self.layers):
            x = self.fns.Linear.apply(x, layer.weight, layer.bias)
            if i < len(self.layers) - 1:
                x = self._act(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, in) -> logits or predictions (N, out)."""
        return self.forward_all(x)[-1]

    def loss(self, out: torch.Tensor, target: torch.Tensor, classification: bool) -> torch.Tensor:
        """Mean CrossEntropy (target (N,) int64) or mean SquaredError (target (N, 1)) -> 0-dim."""
        if classification:
            return self.fns.CrossEntropy.apply(out, target)
        return self.fns.SquaredError.apply(out, target)


def build_network(
    fns: Functions, model: str, n_in: int, n_out: int, hidden: list[int], activation: str, seed: int,
    features: str = "raw",
) -> Network:
    """``mlp``: in -> hidden... -> out; ``logreg``: one Linear layer in -> out (784·10 + 10 = 7850
    parameters on MNIST). ``features`` maps the n_in inputs first (the first layer then takes
    their features). Weights come from a generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [feature_maps.width(features, n_in), *(hidden if model == "mlp" else []), n_out]
    return Network(fns, sizes, activation, gen, features)


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
