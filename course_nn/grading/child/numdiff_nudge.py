"""Whether a tensor holds copies of an input moved by a finite-difference step (used by numdiff_watch).

Standard library and torch only; it decides nothing. Two comparisons: in the input's own order (a copy
nudged in one element or all, by one uniform shift or scale: ``nudged``), and order-free (``displaced``:
a tensor of any size or layout, padded, flipped, batched, that holds most of the input's values each
moved by a small step a + b·|x| — uniform, relative, or both). A shift by a reduction of the input
itself (``x - x.max()``, ``x - logsumexp(x)``) is the stable-softmax idiom, never a step.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random

import torch

_EPS: dict = {}
WINDOW = 5e-2  # a finite-difference step is at most this much of (|x| + mean |x|)
NEIGHBOURS = 3  # values looked at on each side of the input's extremes to guess the step
MATCHED = 0.9  # the share of the input's elements whose displaced copy must be there
MOST = 1 << 16  # values a tensor may hold to be compared order-free (sorting it stays cheap)


def dtype_eps(dtype) -> float:
    if dtype not in _EPS:
        _EPS[dtype] = torch.finfo(dtype).eps
    return _EPS[dtype]


class Input:
    """One floating input of a case, as the watch compares against it (statistics computed on first use)."""

    def __init__(self, index: int, x: torch.Tensor):
        self.index, self.x, self.numel, self.eps = index, x.detach(), x.numel(), dtype_eps(x.dtype)
        self.version, self._stats = x._version, None  # the input itself, unchanged since: nothing to compare
        self.ptr = x.data_ptr()
        self._sorted = self._shifts = self._diffs = self._nonzero = None

    @staticmethod
    def values_of(t: torch.Tensor) -> list:
        """``t.reshape(-1).tolist()`` (``t`` of one dimension or more) without the copy a strided ``t``
        would need: its nested rows, joined in order."""
        if t.dim() == 1 or t.is_contiguous():
            return t.view(-1).tolist()
        found = t.tolist()
        for _ in range(t.dim() - 1):
            found = list(itertools.chain.from_iterable(found))
        return found

    def stats(self) -> tuple:
        """(first two elements, the input as flat float64, mean |x|, max |x|)."""
        if self._stats is None:
            x64 = self.x.to("cpu", torch.float64).reshape(-1)
            magnitudes = x64.abs()
            head = x64.tolist()[:2] if self.numel <= 64 else x64[:2].tolist()  # small: one call
            self._stats = (head, x64, float(magnitudes.mean()), float(magnitudes.max()))
        return self._stats

    def nonzero(self) -> bool:
        """Whether no element of the input is 0 (then x[x != 0] is x itself)."""
        if self._nonzero is None:
            self._nonzero = bool((self.stats()[1] != 0).all())
        return self._nonzero

    def sorted(self) -> tuple:
        """(the input's values sorted, as a tensor and as a list of Python floats)."""
        if self._sorted is None:
            xs = self.stats()[1].sort().values
            self._sorted = (xs, xs.tolist())
        return self._sorted

    def differences(self) -> list | None:
        """The differences between two of the input's values, sorted (Python floats), for an input of
        64 values at most (a larger one is searched for each difference instead)."""
        if self._diffs is None and self.numel <= 64:
            xs = self.sorted()[0]
            self._diffs = (xs[:, None] - xs[None, :]).reshape(-1).sort().values.tolist()
        return self._diffs

    def shifts(self) -> list[torch.Tensor]:
        """Reductions of the input, each broadcast to its flat layout: whole (max, min, mean, median,
        logsumexp) and along each dimension of a 2-D or larger input (the row-wise max of a softmax)."""
        if self._shifts is None:
            x = self.x.to("cpu", torch.float64)
            flat = x.reshape(-1)
            found = [flat.new_full(flat.shape, float(r)) for r in
                     (flat.max(), flat.min(), flat.mean(), flat.median(), torch.logsumexp(flat, 0))]
            for dim in range(x.dim()) if x.dim() >= 2 else ():
                for r in (x.amax(dim, keepdim=True), x.amin(dim, keepdim=True), x.mean(dim, keepdim=True),
                          torch.logsumexp(x, dim, keepdim=True)):
                    found.append(r.expand_as(x).reshape(-1))
            self._shifts = found
        return self._shifts

    def reduction_shift(self, d: torch.Tensor, tol: float) -> bool:
        """Whether ``d`` (a copy minus the input, flat) is minus a reduction of the input: x - x.max()."""
        return any(float((d + r).abs().max()) <= tol for r in self.shifts())


def could_be_nudged(head: list, x_head: list, mean_abs: float, eps: float) -> bool:
    """What ``nudged`` tests, on the first two elements only (plain floats, no tensor ops)."""
    (a0, a1), (x0, x1) = head, x_head
    d0, d1 = a0 - x0, a1 - x1
    if max(abs(d0), abs(d1)) <= 2e-2 * mean_abs:
        return True
    if abs(d0 - d1) <= 16 * eps * (max(abs(x0), abs(x1)) + abs(d0)):
        return True
    q0, q1 = (a0 / x0, a1 / x1) if x0 and x1 else (1.0, 0.0)
    return abs(q0 - 1) <= 0.1 and abs(q0 - q1) <= 16 * eps * (1 + abs(q0))


def nudged(t: torch.Tensor, x: torch.Tensor, inp: Input, eps: float) -> bool:
    """Whether ``t`` (float64, flat) is a copy of the input ``x`` moved by a finite-difference step."""
    _, _, mean_abs, max_abs = inp.stats()
    if mean_abs == 0:
        return False
    d = t - x
    biggest = float(d.abs().max())  # NaN or inf when some difference is: max propagates both
    if not math.isfinite(biggest) or biggest == 0:
        return False
    shift = float(d.mean())  # one step added to every element, any size
    uniform = abs(shift) > 64 * eps * max_abs and float((d - shift).abs().max()) <= 16 * eps * (max_abs + abs(shift))
    if 1e3 * eps < biggest / mean_abs <= 2e-2 or uniform:  # a small step, in one element or all, or a shift
        return not inp.reduction_shift(d, 64 * eps * (max_abs + abs(shift)))  # ... but not x - x.max()
    ratio = t / x if inp.nonzero() else t[x != 0] / x[x != 0]  # one factor 1 ± h for every element
    q = float(ratio.mean()) if ratio.numel() >= 2 else 1.0
    return 64 * eps < abs(q - 1) <= 0.1 and float((ratio - q).abs().max()) <= 16 * eps * (1 + abs(q))


def plausible(values: list, x_list: list, mean_abs: float, eps: float, bigger: bool) -> bool:
    """What ``displaced`` tests, on a few of the tensor's values (plain floats, no tensor ops): three are
    input values moved by steps that fit one line a + b·|x|, or one is moved and one an exact copy of an
    input value (the unmoved copies of z[:, None, :] + h·I), or (a tensor ``bigger`` than the input)
    one is an exact copy. Values of honest arithmetic sit at random distances from the input's values,
    which never fit one line; its copies of an input (a clone, a ReLU's output) are the input's size."""
    moved, last, exact, small = [], len(x_list) - 1, False, 16 * eps
    for v in set(values):  # each value once: a repeated value is no second point on a line
        i = bisect.bisect_left(x_list, v)
        x = x_list[last] if i > last else x_list[i - 1] if i and v - x_list[i - 1] < x_list[i] - v else x_list[i]
        d, u = v - x, abs(x)
        if abs(d) <= small * u:
            exact = True
        elif 1e3 * eps * (u + mean_abs) < abs(d) <= WINDOW * (u + mean_abs):
            moved.append((u, d))
    if exact and (bigger or moved):
        return True
    if len(moved) < 3:
        return False
    tol = 64 * eps * (max(u for u, _ in moved) + mean_abs)
    for k, (u0, d0) in enumerate(moved[:3]):
        for u1, d1 in moved[k + 1: 4]:
            b = (d1 - d0) / (u1 - u0) if abs(u1 - u0) > 1e-3 * (u0 + u1) else 0.0
            if sum(abs(d0 + b * (u - u0) - d) <= tol for u, d in moved) >= 3:
                return True
    return False


def halfway(a: list, b: list, x_list: list, eps: float) -> bool:
    """Whether values at the same places of two tensors average to input values (within rounding) while
    they differ: x' + h and x' - h, the pair a central difference evaluates (plain floats)."""
    apart = False
    for u, v in zip(a, b):
        mid = (u + v) / 2
        i = bisect.bisect_left(x_list, mid)
        if not any(abs(mid - x) <= 16 * eps * (abs(x) + abs(u - v)) for x in x_list[max(0, i - 1): i + 1]):
            return False
        apart = apart or abs(u - v) > 1e3 * eps * (abs(mid) + 1e-300)
    return apart


def central(t: torch.Tensor, s: torch.Tensor, inp: Input, eps: float) -> bool:
    """Whether ``t`` and ``s`` (the input's size) are x' + h and x' - h for x' the input in any order and
    h a step of any size: not zero, and not ±|x'| (``z ± |z|``, a ReLU written with abs)."""
    t64, s64 = t.detach().to(torch.float64).reshape(-1), s.detach().to(torch.float64).reshape(-1)
    mid, h = (t64 + s64) / 2, ((t64 - s64) / 2).abs()
    xs = inp.sorted()[0]
    if not bool(((mid.sort().values - xs).abs() <= 16 * eps * (xs.abs() + h.sort().values + inp.stats()[2])).all()):
        return False
    if bool((h <= 1e3 * eps * (mid.abs() + inp.stats()[2])).all()) or not bool(t64.any()) or not bool(s64.any()):
        return False
    return not bool(((h - mid.abs()).abs() <= 16 * eps * (mid.abs() + h)).all())


def spread(t: torch.Tensor, inp: Input, eps: float) -> bool:
    """Whether ``t`` (the input's size) spans the input's range moved by a uniform shift (the same
    width) or scaled by a factor 1 ± r (r ≤ 0.1): what the order-free shift and scale tests need."""
    lo, hi = torch.aminmax(t.detach().to(torch.float64))
    xs = inp.sorted()[1]
    width, x_width = float(hi) - float(lo), xs[-1] - xs[0]
    if not x_width or width != width:
        return False
    return abs(width - x_width) <= 32 * eps * (abs(xs[0]) + abs(xs[-1]) + abs(float(lo))) or \
        64 * eps < abs(width / x_width - 1) <= 0.1


def displaced(t: torch.Tensor, inp: Input, eps: float) -> bool:
    """Whether ``t`` (any shape, numel ≥ the input's) holds, in any order, most of the input's values
    each moved by one small step a + b·|x| (x ± h, x(1 ± r), x ± r(|x| + 1)), or (the input's size) is
    the input in any order moved by one uniform shift or scale."""
    xs, x_list = inp.sorted()
    _, x64, mean_abs, _ = inp.stats()
    cs = t.detach().to("cpu", torch.float64).reshape(-1).sort().values  # NaN last: it matches nothing
    n, m = xs.numel(), cs.numel()
    if mean_abs == 0 or m < n:
        return False
    if m == n and could_be_nudged(cs[:2].tolist(), x_list[:2], mean_abs, eps) and nudged(cs, xs, inp, eps):
        return True  # the input in another order, shifted or scaled
    steps = _guesses(cs, x_list, mean_abs, eps)
    if not steps:
        return False
    a = x64.new_tensor([s[0] for s in steps])[:, None]
    b = x64.new_tensor([s[1] for s in steps])[:, None]
    step = a + b * x64.abs()  # (guesses, n)
    target = x64 + step
    j = torch.searchsorted(cs, target).clamp_(1, m - 1)
    dist = torch.minimum((cs[j] - target).abs(), (cs[j - 1] - target).abs())
    tol = 16 * eps * (x64.abs() + step.abs() + mean_abs)  # the guess's own rounding: of the size of the ends
    hit = (dist <= tol) & (step.abs() > 4 * tol)  # the moved value is there, and the step is no rounding
    for k in torch.nonzero(hit.sum(1) >= max(2, MATCHED * n)).reshape(-1).tolist():
        # a guess that pairs both ends may carry a rounding-size b: the step it makes is what counts
        if not inp.reduction_shift(step[k], 64 * eps * (mean_abs + abs(steps[k][0]))):
            return True
    return False


def _guesses(cs: torch.Tensor, x_list: list, mean_abs: float, eps: float) -> list[tuple[float, float]]:
    """Steps (a, b) that would move the input's largest and smallest values onto values of ``cs`` close
    beside them: each alone as a uniform or a relative step, and the two together."""
    ends = [x_list[-1], x_list[0]]
    lo = [1e3 * eps * (abs(end) + mean_abs) for end in ends]  # further than rounding (an exact copy) ...
    at = torch.searchsorted(cs, cs.new_tensor([ends[0] - lo[0], ends[0] + lo[0], ends[1] - lo[1], ends[1] + lo[1]]))
    at, k = at.tolist(), NEIGHBOURS
    found: list[list[float]] = [[], []]
    for e, end in enumerate(ends):
        hi = WINDOW * (abs(end) + mean_abs)  # ... and no further than a step
        below, above = cs[max(0, at[2 * e] - k): at[2 * e]].tolist(), cs[at[2 * e + 1]: at[2 * e + 1] + k].tolist()
        found[e] = list(dict.fromkeys(v - end for v in below + above if abs(v - end) <= hi))
    steps = []
    for e, end in enumerate(ends):
        for d in found[e]:
            steps += [(d, 0.0)] + ([(0.0, d / abs(end))] if end else [])
    u0, u1 = abs(ends[0]), abs(ends[1])
    if abs(u0 - u1) > 1e-3 * (u0 + u1):
        for d0 in found[0]:
            for d1 in found[1]:
                if (d0 > 0) == (d1 > 0):
                    b = (d0 - d1) / (u0 - u1)
                    steps.append((d0 - b * u0, b))
    return list(dict.fromkeys(steps))


RELATIVE = 1e-2  # a relative step in part of an input: at most this (a product's random factor near 1 is rarer)
PARTS = 2000  # tensors smaller than an input compared with it in one backward call


class Parts:
    """Per input, its elements seen nudged in tensors smaller than it, over one backward call: covering
    90% of the input, however the copies were split (halves, rows, chunks), is a nudge."""

    def __init__(self):
        self.covered: dict[int, torch.Tensor] = {}
        self.seen, self._random = 0, None  # where the sample is taken: spread, yet repeatable (made when needed)

    def open(self) -> bool:
        return self.seen < PARTS

    def see(self, t: torch.Tensor, inputs: list[Input], perturbed: set) -> set[int]:
        """The inputs ``t`` completes the cover of (``t`` floating, two values or more)."""
        self.seen, m, sample, found = self.seen + 1, t.numel(), None, set()
        for inp in inputs:
            if inp.index in perturbed or m >= inp.numel:
                continue
            if sample is None:  # up to three values: the first and two the code cannot know (two at least)
                if self._random is None:
                    self._random = random.Random(PARTS)
                at = {0, self._random.randrange(m), self._random.randrange(m)}
                at = sorted(at if len(at) > 1 else {0, m - 1})
                sample = [v for i, v in enumerate(Input.values_of(t)) if i in at] if m <= 64 else \
                    t.detach().reshape(-1)[at].tolist()
            eps = max(inp.eps, dtype_eps(t.dtype))
            kinds, moved = could_be_part(sample, inp, eps)
            hit = part(t, moved, inp, eps, kinds) if kinds else None
            if hit is not None:
                old = self.covered.get(inp.index)
                self.covered[inp.index] = covered = hit if old is None else old | hit
                if int(covered.sum()) >= MATCHED * inp.numel:
                    found.add(inp.index)
        return found


def could_be_part(sample: list, inp: Input, eps: float) -> tuple[set, list]:
    """What ``part`` tests, on the sampled values only (plain floats, no tensor ops): the kinds of step
    ("shift", "relative") that could move input values onto all of them but one exact copy at most (the
    differences between them are differences between input values, or each is within 1% of an input
    value by one ratio), and the values moved (the exact copy left out)."""
    x_list, mean_abs = inp.sorted()[1], inp.stats()[2]
    small, n, sample = 16 * eps, len(x_list), list(dict.fromkeys(sample))
    lo, hi = x_list[0], x_list[-1]  # moved copies of input values are no further apart than the input's
    if len(sample) < 2 or mean_abs == 0 or max(sample) - min(sample) > \
            hi - lo + RELATIVE * (abs(lo) + abs(hi)) + small * (abs(lo) + abs(hi) + mean_abs):
        return set(), []  # a constant (zeros to accumulate into), or wider than a 1% step makes the input
    moved = [v for v in sample if not _has(x_list, v, small * (abs(v) + mean_abs))]
    if len(moved) < max(2, len(sample) - 1):
        return set(), []
    v0, rest, loose, kinds = moved[0], moved[1:], 1e-9, set()  # a screen: part() decides at rounding precision
    diffs = inp.differences()  # one shift d = v0 - x: every v - d is an input value, so v - v0 is x' - x
    if diffs is not None:
        if all(_has(diffs, v - v0, loose * (abs(v) + abs(v0) + mean_abs)) for v in rest):
            kinds.add("shift")
    else:
        xs = inp.sorted()[0]
        if all(bool(_near(xs, xs + (v - v0), loose * (abs(v) + abs(v0) + mean_abs)).any()) for v in rest):
            kinds.add("shift")
    near = [_within(x_list, v, n) for v in moved]
    for x0 in near[0]:
        b, q = (v0 - x0) / abs(x0), v0 / x0
        if all(any(abs((v - x) / abs(x) - b) <= loose or abs(v / x - q) <= loose for x in xs)
               for v, xs in zip(rest, near[1:])):
            kinds.add("relative")
            break
    return kinds, moved


def _has(values: list, v: float, tol: float) -> bool:
    """Whether ``v`` lies within ``tol`` of one of ``values`` (sorted)."""
    i = bisect.bisect_left(values, v)
    return any(abs(v - u) <= tol for u in values[max(0, i - 1): i + 1])


def _within(x_list: list, v: float, n: int) -> list:
    """The nonzero input values that ``v`` is within a relative step of (RELATIVE of |x|)."""
    i, found = bisect.bisect_left(x_list, v), []
    for j in (range(i, n), range(i - 1, -1, -1)):
        for k in j:
            x = x_list[k]
            if abs(v - x) > 1.02 * RELATIVE * abs(v):  # |v - x| ≤ RELATIVE·|x| implies ≤ 1.0102·RELATIVE·|v|
                break
            if x:
                found.append(x)
    return found


def _near(xs: torch.Tensor, v: torch.Tensor, tol) -> torch.Tensor:
    """Which of ``v`` (any order) lie within ``tol`` of a value of ``xs`` (sorted, two values or more)."""
    j = torch.searchsorted(xs, v).clamp_(1, xs.numel() - 1)
    return torch.minimum((xs[j] - v).abs(), (xs[j - 1] - v).abs()) <= tol


def _part_steps(sample: list, inp: Input, eps: float, kinds: set) -> list[tuple[str, float]]:
    """Steps that move some input value onto the first sampled value and other input values onto all the
    others (vectorised over the input's values): one shift of any size, x + b·|x| or x·q for a small
    relative step. Honest arithmetic lands at random places, where one step never fits three values."""
    xs = inp.sorted()[0]
    mean_abs, v0, rest = inp.stats()[2], sample[0], sample[1:]
    u, small = xs.abs(), 1e3 * eps * (xs.abs() + mean_abs)
    found, d = [], v0 - xs  # x + d
    if "shift" in kinds:
        ok = d.abs() > small
        for v in rest:
            ok &= _near(xs, v - d, 16 * eps * (u + d.abs() + mean_abs))
        found += [("shift", float(a)) for a in d[ok][:4].tolist()]
    if "relative" not in kinds:
        return found
    nonzero = u > 0
    b = torch.where(nonzero, d / torch.where(nonzero, u, 1.0), 0.0)  # x + b·|x|
    ok = (b.abs() * u > small) & (b.abs() <= RELATIVE)
    for v in rest:
        ok &= _near(xs, v / (1 + b), 16 * eps * (u + mean_abs)) | _near(xs, v / (1 - b), 16 * eps * (u + mean_abs))
    found += [("abs", float(r)) for r in b[ok][:4].tolist()]
    q = torch.where(nonzero, v0 / torch.where(nonzero, xs, 1.0), 1.0)  # x·q
    ok = ((q - 1).abs() * u > small) & ((q - 1).abs() <= RELATIVE)
    for v in rest:
        ok &= _near(xs, v / q, 16 * eps * (u + mean_abs))
    found += [("scale", float(r)) for r in q[ok][:4].tolist()]
    return list(dict.fromkeys(found))


def part(t: torch.Tensor, sample: list, inp: Input, eps: float, kinds: set) -> torch.Tensor | None:
    """Which of the input's elements ``t`` (fewer values than the input, any order; ``sample``: some of
    its values, moved, as ``could_be_part`` found them, with the ``kinds`` of step it found) holds moved by one
    step — a shift of any size, x + b·|x| or x·q (|b|, |q - 1| ≤ 1%) — where at least 90% of ``t``'s
    values (two at least) are such copies (a mask over the input's flat elements), else None. A shift
    by minus a reduction of the matched values or of the input (z[i] - z[i].max(), z[i] - logsumexp,
    minus one of them: the stable softmax of a row) is no step; an exact copy (a slice, a mask) moves
    nothing."""
    _, x64, mean_abs, _ = inp.stats()
    if mean_abs == 0 or len(set(sample)) < 2:
        return None
    steps = _part_steps(sample, inp, eps, kinds)
    if not steps:
        return None
    cs = t.detach().to("cpu", torch.float64).reshape(-1).sort().values
    u = x64.abs()
    for kind, s in steps:
        target = x64 + s if kind == "shift" else x64 + s * u if kind == "abs" else x64 * s
        step = target - x64
        tol = 16 * eps * (u + step.abs() + mean_abs)
        hit = _near(cs, target, tol) & (step.abs() > 4 * tol)
        if int(hit.sum()) < max(2, MATCHED * cs.numel()):
            continue
        if kind == "shift" and _reduction(-s, x64[hit], inp, 64 * eps * (mean_abs + abs(s))):
            continue
        return hit
    return None


def _reduction(r: float, held: torch.Tensor, inp: Input, tol: float) -> bool:
    """Whether ``r`` is a reduction of the matched values ``held`` (max, min, mean, median, logsumexp,
    or one of them) or of the whole input."""
    found = [float(held.mean()), float(torch.logsumexp(held, 0))]  # max, min, median: one of them
    found += [float(s[0]) for s in inp.shifts()[:5]]
    return any(abs(r - f) <= tol for f in found) or bool(((held - r).abs() <= tol).any())
