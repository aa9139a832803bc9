"""hw1's random inputs: shapes random and non-square, values away from kinks unless a case is about them.

Each Function's generator takes (g, n, d, dtype, small, variant) and returns forward's arguments;
``n`` (batch) and ``d`` are drawn for every Function. The contract's own cases (other shapes, the
accuracy traps) are drawn in ``cases.py`` from the helpers here.
"""

from __future__ import annotations

import torch


def size(g: torch.Generator, lo: int, hi: int, avoid: tuple[int, ...] = ()) -> int:
    while True:
        n = int(torch.randint(lo, hi + 1, (1,), generator=g))
        if n not in avoid:
            return n


def randn(g, *shape, dtype=torch.float64, scale=1.0):
    return torch.randn(shape, generator=g, dtype=torch.float64).mul(scale).to(dtype)


def away_from_zero(g, *shape, dtype=torch.float64):
    mag = torch.rand(shape, generator=g, dtype=torch.float64) * 1.9 + 0.1
    sign = torch.randint(0, 2, shape, generator=g).double() * 2 - 1
    return (mag * sign).to(dtype)


def probs(g, n, c, dtype=torch.float64):
    return torch.softmax(randn(g, n, c, scale=2.0), dim=1).to(dtype)


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as Python writes the tuple: (3, 4), (3,), ()."""
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


# The generators: (g, shape, dtype, small, variant) -> forward's arguments. ``shape`` is (N, D), drawn
# for every Function, or a contract case's own shape (0-dim, 1-D, 3-D) for the Functions of any shape.


SCALE = {"large": 800.0, "huge": 1e8}  # elementwise variants: ±800 (overflow), about 1e8 (accuracy)
WIDE = 96  # a wide input's length: a loop over its elements stands out from a vectorised backward


def elementwise_inputs(g, shape, dtype, small, variant) -> list:
    if variant == "saturated":  # sigmoid's flat top, where only a formula keeps float64's accuracy
        return [(torch.rand(shape, generator=g, dtype=torch.float64) * 3 + 16).to(dtype)]
    if variant == "moderate":  # a precision case: 1 - sigmoid(z) keeps float64's accuracy to a few ulps here
        return [(torch.rand(shape, generator=g, dtype=torch.float64) * 8 - 4).to(dtype)]
    return [randn(g, *shape, dtype=dtype, scale=SCALE.get(variant, 2.0))]


def relu_inputs(g, shape, dtype, small, variant) -> list:
    z = away_from_zero(g, *shape, dtype=dtype)
    if variant == "zeros":
        z.view(-1)[:: 2] = 0.0  # exactly at the kink
    if variant == "tiny":  # a step of any fixed size straddles the kink
        z = z * 1e-9
    elif not small:  # random cases: one entry within 2e-9 of the kink (a numerical derivative straddles it);
        z.view(-1)[0] *= 1e-9  # gradcheck's points (small) stay away from it, as its finite differences need
    return [z]


def quadratic_inputs(g, shape, dtype, small, variant) -> list:
    k = 1 if variant == "n1" else 12 if variant == "wide" else size(g, 2, 4 if small else 6)
    scale = 1e6 if variant == "huge" else 1.0
    return [randn(g, k, dtype=dtype, scale=scale), randn(g, k, k, dtype=dtype, scale=scale)]


def linear_inputs(g, shape, dtype, small, variant) -> list:
    n = shape[0]
    fan_in = 1 if variant == "in1" else WIDE if variant == "wide" else size(g, 2, 4 if small else 9, avoid=(n,))
    fan_out = fan_in if variant == "square" else 1 if variant == "out1" else 3 if variant == "wide" else \
        size(g, 2, 4 if small else 9, avoid=(n, fan_in))
    scale = 1e6 if variant == "huge" else 1.0
    bias = None if variant == "nobias" else randn(g, fan_out, dtype=dtype, scale=scale)
    return [randn(g, n, fan_in, dtype=dtype, scale=scale), randn(g, fan_out, fan_in, dtype=dtype, scale=scale), bias]


def pair_inputs(g, shape, dtype, small, variant) -> list:
    if variant != "mixed":
        return [randn(g, *shape, dtype=dtype), randn(g, *shape, dtype=dtype)]
    # Most differences about 1e4, every third about 1e-3 (around values of size 1): the loss is about
    # 1e8, so a finite difference in one of the small ones drowns in the rounding of the others.
    pred, target = randn(g, *shape, scale=1e4), randn(g, *shape, scale=1e4)
    small = torch.zeros(shape, dtype=torch.bool)
    small.view(-1)[::3] = True
    near = randn(g, *shape)
    pred = torch.where(small, near, pred)
    target = torch.where(small, near - 1e-3 * torch.sign(randn(g, *shape)), target)
    return [pred.to(dtype), target.to(dtype)]


def cross_entropy_inputs(g, shape, dtype, small, variant) -> list:
    n = shape[0]
    c = WIDE // 2 if variant == "wide" else size(g, 3, 5 if small else 8, avoid=(n,))
    logits = randn(g, n, c, dtype=dtype, scale=1e4 if variant == "large" else 2.0)
    if variant == "probs":
        return [logits, probs(g, n, c, dtype)]
    return [logits, torch.randint(0, c, (n,), generator=g)]
