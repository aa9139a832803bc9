"""Comparing a tensor with what was expected, and writing the difference for a person to read.

One comparator for the graders (hw1, hw2), ``course-nn compare`` and ``course-nn trace``: which
entries are close (``torch.isclose``: |actual − expected| <= atol + rtol·|expected|), the entry to
show (the worst one, or the first in row-major order), and the words for shapes, indices and values.
Feedback on a hidden case names the entry and the size of the error, never the values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

HIDDEN = "hidden case: values not shown"


@dataclass(frozen=True)
class Mismatch:
    """The entry of ``actual`` shown to the reader, and how many entries differ in all."""

    index: tuple[int, ...]  # () for a 0-dim tensor
    expected: float
    actual: float
    rel_err: float  # |actual − expected| / |expected| (inf where actual is not finite)
    atol: float  # the absolute tolerance it was compared with: below it, "expected" is about 0
    count: int  # entries that differ
    total: int  # entries compared


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float,
          finite: bool = False) -> torch.Tensor:
    """Entrywise closeness in float64; ``finite`` also requires a finite ``actual`` (inf == inf fails)."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    ok = torch.isclose(a, e, rtol=rtol, atol=atol)
    return ok & torch.isfinite(a) if finite else ok


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """|actual − expected| / |expected| per entry (float64)."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    return (a - e).abs() / e.abs().clamp_min(1e-300)


_SMALL = 256  # entries compared as Python floats: a grading compares hundreds of tiny tensors


def _all_close(a: torch.Tensor, e: torch.Tensor, rtol: float, atol: float, finite: bool) -> bool:
    """``torch.isclose(a, e, rtol, atol).all()`` (and every ``a`` finite, with ``finite``) for float64
    tensors of one shape, computed on Python floats: the same IEEE double operations in the same order
    as isclose's (equal, or |a − e| finite and <= atol + |rtol·e|), without its seven kernel launches
    (35 µs on a tensor of 12 entries against 8 µs)."""
    for x, y in zip(a.reshape(-1).tolist(), e.reshape(-1).tolist()):
        if finite and not math.isfinite(x):
            return False
        if x != y:
            d = abs(x - y)
            if not (math.isfinite(d) and d <= atol + abs(rtol * y)):
                return False
    return True


def mismatch(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float, first: bool = False,
             finite: bool = False) -> Mismatch | None:
    """None when every entry is close; else the entry to show: the worst one measured against the
    tolerance, or with ``first`` the first that differs (row-major). Shapes must already agree."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    if a.shape == e.shape and a.numel() <= _SMALL and _all_close(a, e, rtol, atol, finite):
        return None
    ok = torch.isclose(a, e, rtol=rtol, atol=atol)  # as close() does, on the float64 copies made here
    if finite:
        ok &= torch.isfinite(a)
    if bool(ok.all()):
        return None
    bad = ~ok
    if first:
        flat = int(bad.reshape(-1).nonzero()[0])
    else:
        err = ((a - e).abs() / (atol + rtol * e.abs())).nan_to_num(nan=math.inf)
        flat = int(torch.where(bad, err, torch.zeros_like(err)).reshape(-1).argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), e.shape)) if e.dim() else ()
    ev, av = float(e.reshape(-1)[flat]), float(a.reshape(-1)[flat])
    rel = abs(av - ev) / max(abs(ev), 1e-300) if math.isfinite(av) else math.inf
    return Mismatch(index, ev, av, rel, atol, int(bad.sum()), e.numel())


def shape_text(t: torch.Tensor) -> str:
    """A shape as Python writes the tuple: (3, 4), (3,), ()."""
    return "(" + ", ".join(str(s) for s in t.shape) + (",)" if t.dim() == 1 else ")")


def index_text(index: tuple[int, ...]) -> str:
    """An entry's index as written after a name, ``[1, 2]``; nothing for a 0-dim tensor."""
    return "[" + ", ".join(str(i) for i in index) + "]" if index else ""


def error_text(m: Mismatch) -> str:
    """The size of the error: relative, or absolute where the expected value is about 0."""
    if abs(m.expected) > m.atol:
        return f"relative error {m.rel_err:.1e}"
    return f"absolute error {abs(m.actual - m.expected):.1e}" + (" where 0 is expected" if m.expected == 0 else "")


def value_text(m: Mismatch, visible: bool) -> str:
    """``expected 0.5, got 0.25 (relative error 5.0e-01)``; on a hidden case only the error's size."""
    if visible:
        return f"expected {m.expected:.6g}, got {m.actual:.6g} ({error_text(m)})"
    return f"{error_text(m)} ({HIDDEN})"


def likely(text: str) -> str:
    """`` — likely mistake: text`` to end a feedback line, or nothing when no mistake is known."""
    return f" — likely mistake: {text}" if text else ""


def difference(what: str, actual: torch.Tensor, expected: torch.Tensor, visible: bool, rtol: float,
               atol: float) -> str | None:
    """One line when ``actual`` differs from ``expected`` in shape or value, naming the entry:
    ``d loss / d weight_1[0, 2]: expected 0.5, got 0.25 (relative error 5.0e-01)``."""
    if tuple(actual.shape) != tuple(expected.shape):
        return f"{what} has shape {shape_text(actual)}, expected {shape_text(expected)}"
    m = mismatch(actual, expected, rtol, atol)
    return None if m is None else f"{what}{index_text(m.index)}: {value_text(m, visible)}"


# A backward that writes into a tensor it was given: the one wording the grader, compare and trace use.
GRAD_OUTPUT_IN_PLACE = "modified grad_output in place (e.g. grad_output *= ...); autograd may reuse it — compute a new tensor"


def input_in_place(name: str) -> str:
    """The wording for a backward that changed the saved input ``name`` in place."""
    return f"modified the saved input `{name}` in place; compute new tensors instead"


def changed(before: torch.Tensor, after: torch.Tensor) -> bool:
    """Did a tensor handed to student code change (in place)? NaNs in the same places count as unchanged."""
    if before.shape != after.shape or before.dtype != after.dtype:
        return True
    if before.is_floating_point():
        return not bool(torch.isclose(before, after, rtol=0, atol=0, equal_nan=True).all())
    return not torch.equal(before, after)
