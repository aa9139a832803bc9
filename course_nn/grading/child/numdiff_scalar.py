"""Central differences one element at a time, in small tensors (used by numdiff_watch).

Standard library and torch only; it decides nothing. A backward that loops over an input's elements and
evaluates the Function at ``x[i] + h`` and ``x[i] - h`` as one-element tensors, or as one two-element tensor
``x[i] + (h, -h)``, makes no tensor the in-order check, the order-free scan or the cover by smaller pieces
(numdiff_nudge.Parts, one step per piece) can compare: each nudged copy is a number or two, and a lone
number lies within a step of some input value too often to mean anything. Two of them do: a central
difference evaluates both sides, so its two numbers average to the element they straddle (within rounding),
or, where the lower side is formed through a mirror (σ(x - h) = 1 - σ(h - x)), differ by twice it: x + h and
h - x, so the negated numbers count as numbers too. ``Scalars`` keeps every value of the floating results of
at most ``SMALL`` values, and fewer than the largest input holds, of a backward call (a list per small op,
nothing per larger op) and, once, when the call is over (screened first in plain Python when few), finds
for each input element whether two of those numbers (or their negatives) are x[i] + h and x[i] - h: at a
step of any size up to the input's scale (eighth-order stencils, a relative step |x|/2), both numbers moved
(neither a copy of an input value), and a half-step that is not the magnitude of an input value (``z ± |z|``:
2z and 0, a ReLU written with abs; ``p ± t``: a half-sum and half-difference of two inputs). Honest
numbers (s(1 - s), a mask times grad_output, ``x[i] - x.max()``, ``1 + exp(-x[i])``, a softmax row of two
classes) average to an input value only by a coincidence of rounding size; the input counts as nudged when
90% of its elements are straddled, however the loop was ordered (all the +h first, then all the -h, is the
same), and far fewer points beside them (the control) are.
"""

from __future__ import annotations

import bisect

import torch
from torch.utils._python_dispatch import _disable_current_modes

CAP = 1 << 16  # distinct values kept in one backward call
SCREEN = 256  # at most this many kept values are screened in plain Python first
SMALL = 16  # results of at most this many values are kept whole (a pair x[i] + (h, -h), a nine-point stencil)
BLOCK = 1 << 12  # values paired with every input element at once (memory: elements x BLOCK)
SHARE = 0.9  # the share of an input's elements that must be straddled
TOL = 8  # (x + d) + (x - d) is 2x within eps·(|x| + d) when each side is rounded once: this many times that


class Scalars:
    """The distinct values of the small floating results of one backward call, and the largest rounding of
    their dtypes."""

    def __init__(self):
        self.values: set[float] = set()
        self.eps = 0.0

    def add(self, outs: list, below: int = SMALL + 1) -> None:
        """One op's results (no view): the values of its floating ones of at most SMALL values, and fewer than
        ``below`` (the largest watched input's size: a tensor of an input's size is the other checks' to
        compare, and a vectorised backward makes many), are kept, as Python numbers."""
        for t in outs:
            n = t.numel()
            if 0 < n <= SMALL and n < below and t.is_floating_point() and not t.is_complex() \
                    and len(self.values) < CAP:
                with torch._C.DisableTorchFunction():  # the watch's own read stays out of the function recorder
                    found = [t.item()] if n == 1 else t.detach().reshape(-1).tolist()
                kept = [v for v in found if v - v == 0]  # finite (NaN and ±inf straddle nothing)
                if kept:
                    self.values.update(kept)
                    self.eps = max(self.eps, torch.finfo(t.dtype).eps)

    def straddled(self, inputs: list, skip: set) -> set[int]:
        """The indices of the inputs (numdiff_nudge.Input, not in ``skip``) whose elements are, 90% of them,
        the midpoint of two kept values or their negatives: a central difference evaluated element by element
        (the lower side directly, x - h, or through a mirror, h - x)."""
        found: set[int] = set()
        m = len(self.values)
        if m < 2 or all(inp.index in skip for inp in inputs):
            return found
        try:  # watching must never change what the submission's code does
            with _disable_current_modes(), torch._C.DisableTorchFunction():
                both = sorted([*self.values, *(-v for v in self.values)])  # a mirrored side h - x is x - h negated
                todo = [inp for inp in inputs if inp.index not in skip and m * (m - 1) >= 2 * SHARE * inp.numel
                        and (m > SCREEN or _screen(both, inp, max(self.eps, inp.eps)))]
                if todo:
                    values = torch.tensor(both, dtype=torch.float64)
                    mags = torch.cat([inp.stats()[1].abs() for inp in inputs] + [values.new_tensor([float("inf")])])
                    mags = mags.sort().values
                    found = {inp.index for inp in todo if _straddled(values, inp, max(self.eps, inp.eps), mags)}
        except Exception:  # noqa: BLE001 - an odd input is not paired
            pass
        return found


def _screen(both: list, inp, eps: float) -> bool:
    """What ``_straddled`` needs, in plain Python (a few bisections per element): more than 90% of the input's
    elements x have two values around them, v in (x, x + |x| + mean |x|] and one within rounding of 2x - v
    (looser than _midpoints's rules, so nothing it would find is screened out). An honest call fails it after
    a tenth of the elements."""
    x_list, mean_abs = inp.sorted()[1], inp.stats()[2]
    allowed, n = len(x_list) - SHARE * len(x_list), len(both)  # _straddled needs SHARE·numel found
    for x in x_list:
        u = abs(x)
        hi = x + (u + mean_abs) * (1 + 4 * TOL * eps)  # the upper side, its rounding included
        for i in range(bisect.bisect_right(both, x), bisect.bisect_right(both, hi)):
            v = both[i]
            w, tol = 2 * x - v, 2 * TOL * eps * (u + v - x) + 1e-300
            j = bisect.bisect_left(both, w)
            if (j < n and both[j] - w <= tol) or (j and w - both[j - 1] <= tol):
                break
        else:
            allowed -= 1
            if allowed < 0:
                return False
    return True


def _straddled(values: torch.Tensor, inp, eps: float, mags: torch.Tensor) -> bool:
    """Whether 90% of the input's elements are straddled by two of ``values`` (float64, sorted), and far
    fewer points beside them (each element moved by 1e-3 of its size: the control) are: two random numbers
    average to some element within rounding about as often as they average to a point beside it, which
    matters in float32, where a long honest loop's thousands of numbers make many such coincidences."""
    xs, (_, _, mean_abs, max_abs) = inp.sorted()[0], inp.stats()
    if mean_abs == 0:
        return False
    reach = max_abs + mean_abs  # x ± d with d at most |x| + mean |x|: nothing further pairs
    values = values[(values >= float(xs[0]) - reach) & (values <= float(xs[-1]) + reach)]
    if values.numel() < 2:
        return False
    j = torch.searchsorted(xs, values).clamp_(1, xs.numel() - 1)
    gap = torch.minimum((xs[j] - values).abs(), (xs[j - 1] - values).abs())
    moved = values[gap > 16 * eps * (values.abs() + mean_abs)]  # copies of input values move nothing
    need = SHARE * xs.numel()
    if moved.numel() < 2:
        return False
    found = _midpoints(moved, xs, mean_abs, eps, need, mags)
    if found < need:
        return False
    beside = xs + 1e-3 * (xs.abs() + mean_abs)
    return 2 * _midpoints(moved, beside, mean_abs, eps, found, mags) <= found


def _midpoints(moved: torch.Tensor, xs: torch.Tensor, mean_abs: float, eps: float, enough: float,
               mags: torch.Tensor | None = None) -> int:
    """How many of ``xs`` are the midpoint of two of ``moved`` (sorted) at a half-step d above rounding, at
    most |x| + mean |x|, and not the magnitude of an input value (``mags``, sorted: z ± |z| is 2z and 0, p ± t
    a half-sum and half-difference of two inputs: arithmetic between inputs, not a step); counting stops at
    ``enough``. Without ``mags``, the magnitudes of ``xs`` are used."""
    if mags is None:
        mags = torch.cat([xs.abs(), xs.new_tensor([float("inf")])]).sort().values
    m, x, u = moved.numel(), xs[:, None], xs.abs()[:, None]
    hit = torch.zeros(xs.numel(), dtype=torch.bool)
    for a in range(0, m, BLOCK):
        v = moved[None, a: a + BLOCK]  # one side, x + d; the other must be 2x - v = x - d
        d, w = (v - x).abs(), 2 * x - v
        k = torch.searchsorted(moved, w).clamp_(1, m - 1)
        gap = torch.minimum((moved[k] - w).abs(), (moved[k - 1] - w).abs())
        ok = (gap <= TOL * eps * (u + d)) & (d > 1e3 * eps * (u + mean_abs)) & (d <= u + mean_abs)
        rows, cols = ok.nonzero(as_tuple=True)
        if rows.numel():  # the few pairs left: is the half-step an input's magnitude?
            dd = d[rows, cols]
            i = torch.searchsorted(mags, dd).clamp_(1, mags.numel() - 1)
            near = torch.minimum((mags[i] - dd).abs(), (mags[i - 1] - dd).abs())
            ok[rows, cols] = near > 16 * eps * (u[rows, 0] + dd)
        hit |= ok.any(1)
        if int(hit.sum()) >= enough:
            break
    return int(hit.sum())
