"""What the hw2 task graders share: random draws, reading a returned value, and feedback words.

Each section module (perceptron, approximation, mlp) keeps a task's cases, reference, check and
hints together and draws on these. Every expected value is float64; comparisons use ``RTOL``/``ATOL``.
"""

from __future__ import annotations

import math

import torch

from course_nn.grading.feedback import difference, shape_text

RTOL, ATOL = 1e-6, 1e-9  # float64 comparisons


# A task's cases for one seed: (kind "main" or "edge", label, case fields).
Cases = list[tuple[str, str, dict]]
# What checking one case gives: (problems, contract problems) as bare sentences; scoring puts
# "task [case label]: " in front of each, so every line names the function and the case.
Check = tuple[list[str], list[str]]


def rand_int(g: torch.Generator, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def uniform(g: torch.Generator, lo: float, hi: float, *shape) -> torch.Tensor:
    return torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def randn(g: torch.Generator, *shape, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def layer_sizes(g: torch.Generator, layers: int, lo: int = 2, hi: int = 7) -> list[int]:
    """Layer widths where neighbours differ, so a swapped transpose or product order cannot hide."""
    sizes = [rand_int(g, lo, hi)]
    while len(sizes) < layers + 1:
        n = rand_int(g, lo, hi)
        if n != sizes[-1]:
            sizes.append(n)
    return sizes


def mlp_weights(g: torch.Generator, sizes: list[int], scale: float = 1.0) -> list[torch.Tensor]:
    ws = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ws += [randn(g, b, a, scale=scale / math.sqrt(a)), randn(g, b, scale=0.5 * scale)]
    return ws


def as_tensor(value, name: str) -> tuple[torch.Tensor | None, str]:
    """``value`` as a float64 tensor, or (None, why not)."""
    if isinstance(value, torch.Tensor):
        return value.detach().double(), ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64), ""
    if isinstance(value, (list, tuple)):
        try:
            return torch.tensor(value, dtype=torch.float64), ""
        except (TypeError, ValueError):
            pass
    return None, f"{name} is {type(value).__name__ if not isinstance(value, str) else value}, expected a tensor"


def as_scalar(value, name: str) -> tuple[float | None, str]:
    t, why = as_tensor(value, name)
    if t is None:
        return None, why.replace("a tensor", "a number or a 0-dim tensor")
    if t.numel() != 1:
        return None, f"{name} has shape {shape_text(t)}, expected a number or a 0-dim tensor"
    return float(t.reshape(())), ""


def as_tuple(value, n: int, task: str, names: str) -> tuple[list | None, str]:
    if isinstance(value, (tuple, list)) and len(value) == n:
        return list(value), ""
    got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list)) else \
        (value if isinstance(value, str) else type(value).__name__)
    return None, f"{task} returned {got}; expected a tuple {names}"


def differs(what: str, actual: torch.Tensor, expected: torch.Tensor, case: dict,
            rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """One feedback line when ``actual`` differs from ``expected`` (values shown only if visible)."""
    return difference(what, actual, expected, case["visible"], rtol, atol)


def allclose(a: torch.Tensor | None, b: torch.Tensor | None, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return (a is not None and b is not None and tuple(a.shape) == tuple(b.shape)
            and torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol))


def same(before, after) -> bool:
    """Equal values: tensors compared with torch.equal, never with ``==`` (ambiguous for tensors)."""
    if isinstance(before, torch.Tensor) or isinstance(after, torch.Tensor):
        return (isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor)
                and before.shape == after.shape and torch.equal(before, after.to(before.dtype)))
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        return len(before) == len(after) and all(same(x, y) for x, y in zip(before, after))
    return type(before) is type(after) and before == after


def inputs_changed(case: dict, r: dict, names: list[str], keys: list[str]) -> list[str]:
    after = r.get("inputs_after") or []
    out = []
    for name, key, a in zip(names, keys, after):
        before = case[key]
        if isinstance(before, torch.Tensor) and isinstance(a, torch.Tensor) and not same(before, a):
            out.append(f"modified its input `{name}` in place; compute new tensors instead")
        if isinstance(before, list) and isinstance(a, list) and not same(before, a):
            out.append(f"modified its input `{name}` (the list or its tensors) — do not change the inputs; "
                       "build new tensors (W = W_d @ W, not W_d @= ... or W.copy_(...))")
    return out
