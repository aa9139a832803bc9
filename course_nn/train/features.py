"""Hand-crafted feature maps φ(x), applied to the inputs before the first layer (``--features``).

The lecture's point: a linear classifier draws a straight boundary, so no line separates a disc from
the ring around it (the ``circles`` task). Map each point to new features first and the same linear
classifier may succeed: with φ(x) = (x₁, x₂, x₁², x₂², x₁x₂) the circle x₁² + x₂² = r² is the set
where one linear combination of the features, 1·x₁² + 1·x₂² − r², is zero — a hyperplane in
feature space, a circle back in the plane. A hidden layer *learns* its features instead.

    raw        φ(x) = x                                     (N, d) -> (N, d)
    quadratic  φ(x) = (x, x_i², x_i·x_j for i < j)          (N, d) -> (N, d + d(d+1)/2)

The map has no parameters and runs on torch's own ops (it is part of the data, not of the network
the Functions compute). Pictures are drawn in input space: the trainer maps every grid point too.
"""

from __future__ import annotations

import torch

from course_nn.choices import FEATURES

#: Largest input width a quadratic map is built for: d(d+1)/2 products grow fast (784 pixels -> 308,112).
MAX_QUADRATIC_INPUTS = 16


def width(name: str, n_inputs: int) -> int:
    """How many features ``name`` makes from ``n_inputs`` inputs."""
    if name == "quadratic":
        return n_inputs + n_inputs * (n_inputs + 1) // 2
    return n_inputs


def apply(name: str, x: torch.Tensor) -> torch.Tensor:
    """φ(x) for a batch x (N, d): the inputs, then (quadratic) the squares, then the products."""
    if name == "raw":
        return x
    if name != "quadratic":
        raise ValueError(f"unknown feature map {name!r}; one of {', '.join(FEATURES)}")
    d = x.shape[1]
    i, j = torch.triu_indices(d, d, offset=1, device=x.device)
    return torch.cat([x, x * x, x[:, i] * x[:, j]], dim=1)


def describe(name: str, n_inputs: int) -> str:
    """The features in words, e.g. 'x1, x2, x1², x2², x1·x2' (for titles and the first line)."""
    xs = [f"x{k + 1}" for k in range(n_inputs)]
    if name == "raw":
        return ", ".join(xs)
    squares = [f"{v}²" for v in xs]
    products = [f"{xs[a]}·{xs[b]}" for a in range(n_inputs) for b in range(a + 1, n_inputs)]
    return ", ".join(xs + squares + products)
