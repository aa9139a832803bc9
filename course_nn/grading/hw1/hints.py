"""Naming the likely mistake behind a wrong value: scale slips consistent over every case, and the
general gradient and shape hints (the per-Function ones are hooks in mistakes.py)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_nn.grading.hw1.specs import SPECS, differentiable, reference, reference_grads

SCALE_HINTS: list[tuple[Callable[[dict], float], str]] = [
    (lambda c: -1.0, "the sign is flipped"),
    (lambda c: 2.0, "a factor 2 too large"),
    (lambda c: 0.5, "a factor 2 is missing"),
    (lambda c: c["batch"], "forgot to divide by the batch size N (the loss is a mean over the batch)?"),
    (lambda c: 1.0 / c["batch"], "divided by the batch size N once too often?"),
    (lambda c: c["numel"], "forgot to divide by the number of elements M (the loss is a mean)?"),
    (lambda c: 1.0 / c["numel"], "divided by the number of elements M once too often?"),
    (lambda c: c["numel"] / c["batch"], "divided by the batch size N instead of the number of elements M = N·D?"),
    (lambda c: c["numel"] / (2 * c["batch"]), "this loss is (1/M) Σ (pred − target)² over all M = N·D elements, "
                                              "like F.mse_loss — not ½ · (1/N) Σ (another convention)"),
]


def scale_ratio(actual: torch.Tensor, expected: torch.Tensor) -> float | None:
    """c when ``actual`` is a clean multiple c · ``expected``, else None."""
    a, e = actual.double().reshape(-1), expected.double().reshape(-1)
    if a.shape != e.shape or not bool(torch.isfinite(a).all()):
        return None
    denom = float((e * e).sum())
    if denom == 0:
        return None
    c = float((a * e).sum()) / denom
    if not torch.allclose(a, c * e, rtol=1e-5, atol=1e-9 * (1 + float(e.abs().max()))):
        return None
    return c


def _explains(value: float, c: float) -> bool:
    return abs(c - value) <= 1e-4 * max(1.0, abs(value))


def scale_hint(actual: torch.Tensor, expected: torch.Tensor, info: dict) -> str | None:
    """When ``actual`` is a clean multiple of ``expected``, name the likely slip (one case alone)."""
    c = scale_ratio(actual, expected)
    if c is None:
        return None
    return next((text for value, text in SCALE_HINTS if value(info) not in (0, 1) and _explains(value(info), c)), None)


def consistent_scale_hint(observations: list[tuple[float | None, dict]]) -> str | None:
    """One hint that explains every case at once, so a mistake gets the same hint on every shape.

    ``observations`` are (ratio actual/expected or None, case info) per case, passing cases
    included (ratio 1): a formula such as M/(2N) that gives 1 on a passing case and 2 on a failing
    one beats "a factor 2", which the passing case refutes.
    """
    known = [(c, info) for c, info in observations if c is not None]
    if not any(not _explains(1.0, c) for c, _ in known):
        return None
    for value, text in SCALE_HINTS:
        if all(_explains(value(info), c) for c, info in known):
            return text
    return None


def case_info(case: dict) -> dict:
    first = case["inputs"][0]
    return {"batch": first.shape[0] if first.dim() else 1, "numel": first.numel()}



def forward_hint(task: str, case: dict, out: torch.Tensor, ref: torch.Tensor, scale: str | None = None) -> str:
    """The likely mistake behind a wrong forward value ("" when none is known); ``scale`` is the
    scale hint agreed over every case (None: decide from this case alone)."""
    spec = SPECS[task]
    if not bool(torch.isfinite(out).all()) and bool(torch.isfinite(ref).all()):
        return spec.overflow_hint
    general = scale if scale is not None else scale_hint(out, ref, case_info(case))
    return spec.forward_hint(case, out, ref, general or "")



def grad_hint(task: str, name: str, case: dict, got: torch.Tensor, want: torch.Tensor, index: int,
              scale: str | None = None) -> str:
    """The likely mistake behind a wrong gradient for input ``name`` (number ``index``), "" when none is
    known; ``case`` needs "inputs", "needs" and "grad_output". ``scale`` as in ``forward_hint``."""
    specific = SPECS[task].grad_hint(name, case, got, want)
    if specific:
        return specific
    if got.dim() == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1 \
            and torch.allclose(got.double(), want.double().t(), rtol=1e-5, atol=1e-9):
        return f"your gradient for `{name}` is the transpose of the right one (dJ/dW = grad_outputᵀ · x has W's shape)"
    ones = torch.ones_like(case["grad_output"])
    local = reference_grads(task, case["inputs"], case["needs"], ones)[index]  # ∂y/∂x without dJ/dy
    if local is not None and torch.allclose(got.double(), local, rtol=1e-5, atol=1e-9):
        return "you returned the local derivative ∂y/∂x alone — multiply it by grad_output (the upstream gradient dJ/dy)"
    return (scale if scale is not None else scale_hint(got, want, case_info(case))) or ""


def shape_hint(task: str, name: str, got: torch.Tensor, want: torch.Tensor) -> str:
    """Why the gradient for ``name`` may have shape ``got.shape`` instead of ``want.shape``."""
    specific = SPECS[task].shape_hint(name, got, want)
    if specific:
        return specific
    if got.dim() == want.dim() + 1 and tuple(got.shape[1:]) == tuple(want.shape):  # at batch size 1 too
        return (f"one gradient per example: `{name}` is shared by every example, so its gradient is the sum "
                f"over the batch (dim 0)" + (" — grad_outputᵀ · x does that sum for you" if name == "weight" else ""))
    if got.numel() == want.numel() and got.dim() < want.dim():
        return ("a dimension of size 1 was dropped (a squeeze(), or indexing with [0]?): every gradient keeps "
                "its input's shape, even where a size is 1")
    if got.numel() == want.numel():
        return "same number of elements: a reshape or transpose is off"
    return "each gradient has exactly its input's shape"


def _ratios(task: str, pairs: list[tuple[dict, dict]]) -> dict[str, str]:
    """Per quantity (the output, each input's gradient): one scale hint consistent over every case,
    or "" when the cases agree on none (absent: too few cases to tell, each case decides)."""
    obs: dict[str, list] = {}
    for case, r in pairs:
        d = r.get("direct") if isinstance(r, dict) else None
        if case["kind"] == "gradcheck" or not isinstance(d, dict):
            continue
        info = case_info(case)
        ref = case.get("_ref_out")
        if ref is None:
            ref = reference(task, [x.double() if differentiable(x) else x for x in case["inputs"]])
        out = d.get("out")
        if isinstance(out, torch.Tensor) and out.shape == ref.shape:
            obs.setdefault("out", []).append((scale_ratio(out, ref), info))
        grads = d.get("grads") or []
        refs = case.get("_ref_grads") or reference_grads(task, case["inputs"], case["needs"], case["grad_output"])
        for name, got, want in zip(SPECS[task].input_names, grads, refs):
            if isinstance(got, torch.Tensor) and want is not None and got.shape == want.shape:
                obs.setdefault(name, []).append((scale_ratio(got, want), info))
    hints = {}
    for q, o in obs.items():
        hint = consistent_scale_hint(o)
        if hint or sum(c is not None for c, _ in o) >= 2:
            hints[q] = hint or ""  # "": no formula explains every case, so no case gets a guessed one
    return hints


class _LazyHints:
    """``_ratios`` of a task, computed when a mismatching case first asks (a correct submission never does)."""

    def __init__(self, task: str, pairs: list[tuple[dict, dict]]):
        self._args = (task, pairs)
        self._hints: dict[str, str] | None = None

    def get(self, key: str, default: str | None = None) -> str | None:
        if self._hints is None:
            try:
                self._hints = _ratios(*self._args)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError):
                self._hints = {}
        return self._hints.get(key, default)

