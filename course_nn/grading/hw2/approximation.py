"""hw2 tasks 5–7, the handout's second section: what one hidden layer can approximate, and why
stacked linear layers collapse to one.

Each task keeps its cases, the grader's reference, the check of one case and its hints together.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_nn.grading.feedback import HIDDEN, likely, shape_text
from course_nn.grading.hw2.common import (
    Cases,
    Check,
    allclose,
    as_scalar,
    as_tensor,
    as_tuple,
    differs,
    inputs_changed,
    layer_sizes,
    mlp_weights,
    rand_int,
    randn,
    uniform,
)


def _network(value, task: str) -> tuple[list[torch.Tensor] | None, list[str]]:
    items, why = as_tuple(value, 4, task, "(w1, b1, w2, b2)")
    if items is None:
        return None, [why]
    out, problems = [], []
    for name, v in zip(("w1", "b1", "w2"), items[:3]):
        t, why = as_tensor(v, name)
        if t is None:
            problems.append(why)
            continue
        if t.dim() != 1:
            problems.append(f"{name} has shape {shape_text(t)}, expected (H,)")
        out.append(t.reshape(-1))
    b2, why = as_scalar(items[3], "b2")
    if why:
        problems.append(why)
    if not problems and len({t.numel() for t in out}) != 1:
        problems.append(f"w1, b1, w2 have lengths {', '.join(str(t.numel()) for t in out)}; "
                        "they must all have length H")
    if not problems:  # a NaN compares false with everything: it would pass any error bound unseen
        problems = [f"{name} holds NaN or inf: a network's weights and biases must be finite numbers"
                    for name, t in zip(("w1", "b1", "w2", "b2"), (*out, torch.tensor(float(b2))))
                    if not bool(torch.isfinite(t).all())]
    if problems:
        return None, problems
    return [*out, torch.tensor(b2, dtype=torch.float64)], []


def _evaluate(net: list[torch.Tensor], x: torch.Tensor, unit: Callable) -> torch.Tensor:
    w1, b1, w2, b2 = net
    out = torch.zeros_like(x) + b2
    for chunk in range(0, w1.numel(), 512):  # (points, units) in chunks keeps memory small
        s = slice(chunk, chunk + 512)
        out = out + unit(x[:, None] * w1[None, s] + b1[None, s]) @ w2[s]
    return out


# ----------------------------------------------------------------------------------------------
# Task 5, relu_interpolant: a ReLU network through given knots


def _knots(g, k: int, lo: float = -3.0, hi: float = 3.0, min_gap: float = 0.1) -> torch.Tensor:
    """k sorted knot positions in [lo, hi], neighbours at least ``min_gap`` apart."""
    while True:
        x = uniform(g, lo, hi, k).sort().values
        if bool((x[1:] - x[:-1] >= min_gap).all()):
            return x


def cases_relu(g: torch.Generator, visible: bool) -> Cases:
    out = []
    for i in range(2 if visible else 3):
        k = rand_int(g, 3, 8)
        out.append(("main", f"{k} random knots #{i + 1}", {"knots_x": _knots(g, k), "knots_y": randn(g, k)}))
    out.append(("edge", "two knots (a single segment)", {"knots_x": _knots(g, 2), "knots_y": randn(g, 2)}))
    if not visible:
        out += [("edge", "unevenly spaced knots, negative and positive",
                 {"knots_x": torch.tensor([-5.0, -4.9, 0.0, 0.05, 3.0], dtype=torch.float64),
                  "knots_y": randn(g, 5, scale=3.0)}),
                ("edge", "large values",
                 {"knots_x": _knots(g, 4, -100.0, 100.0, 5.0), "knots_y": randn(g, 4, scale=1e3)})]
    return out


def _interp(kx: torch.Tensor, ky: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    idx = torch.searchsorted(kx, x, right=True).clamp(1, len(kx) - 1)
    x0, x1, y0, y1 = kx[idx - 1], kx[idx], ky[idx - 1], ky[idx]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _knot_hint(diff: torch.Tensor, bad: torch.Tensor, k: int) -> str:
    if bool(bad.all()) and torch.allclose(diff, diff.mean().expand_as(diff), rtol=1e-6, atol=1e-9):
        return "every knot is off by the same amount: the constant b2 must make f(x_0) = y_0"
    if k == 0:
        return "f(x_0) = y_0 must come from b2 alone (the ReLU units are 0 at and left of x_0)"
    if k == 1:
        return "the first segment's slope is wrong: the unit at x_0 carries the slope (y_1 - y_0)/(x_1 - x_0)"
    return (f"the knots before knot {k} are hit: the unit at knot {k - 1} must add the change of slope "
            "there (new slope minus old slope), not the slope itself")


def check_relu(case: dict, r: dict) -> Check:
    net, problems = _network(r["value"], "relu_interpolant")
    contract = problems + inputs_changed(case, r, ["knots_x", "knots_y"], ["knots_x", "knots_y"])
    if net is None:
        return problems, contract
    kx, ky = case["knots_x"].double(), case["knots_y"].double()
    f = lambda x: _evaluate(net, x, torch.relu)  # noqa: E731
    atol = 1e-7 * (float(ky.abs().max()) + 1.0)
    fk = f(kx)
    bad = ~torch.isclose(fk, ky, rtol=1e-6, atol=atol)
    if bool(bad.any()):
        k = int(bad.nonzero()[0])
        diff = fk - ky
        of = f"{int(bad.sum())} of {len(kx)} knots missed"
        if case["visible"]:
            line = (f"knot {k} (x = {float(kx[k]):.6g}) is missed by {float(diff[k]):+.3g}: f(x) = {float(fk[k]):.6g}, "
                    f"expected {float(ky[k]):.6g} ({of})")
        else:
            line = f"knot {k} is missed ({of}; {HIDDEN})"
        return [line + likely(_knot_hint(diff, bad, k))], contract
    mids = torch.cat([(kx[1:] + kx[:-1]) / 2, kx[0] + (kx[-1] - kx[0]) * torch.linspace(0, 1, 401, dtype=torch.float64)])
    want, fm = _interp(kx, ky, mids), f(mids)
    bad = ~torch.isclose(fm, want, rtol=1e-6, atol=atol)
    if bool(bad.any()):
        i = int(((fm - want).abs() * bad).argmax())
        seg = int(torch.searchsorted(kx, mids[i:i + 1], right=True).clamp(1, len(kx) - 1)) - 1
        shown = (f" at x = {float(mids[i]):.6g}: expected {float(want[i]):.6g}, got {float(fm[i]):.6g}"
                 if case["visible"] else f" ({HIDDEN})")
        return [f"the network hits the knots but is not linear between knot {seg} and knot {seg + 1}{shown}"
                + likely("a unit bends where w1·x + b1 = 0; each bend must sit exactly on a knot "
                          "(b1_k = -w1_k·x_k), with no unit bending between knots")], contract
    return [], contract


# ----------------------------------------------------------------------------------------------
# Task 6, step_approximation: a step network within tol of f


def _step_case(g, tol: float) -> dict:
    """f(x) = c0 + Σ a_k sin(ω_k x + φ_k) on a random [lo, hi]; Lipschitz constant Σ |a_k| ω_k."""
    k = rand_int(g, 1, 3)
    amp = uniform(g, 0.3, 1.5, k) * (torch.randint(0, 2, (k,), generator=g) * 2 - 1)
    freq = uniform(g, 0.5, 3.0, k)
    phase = uniform(g, 0, 2 * math.pi, k)
    lo = float(uniform(g, -3, 0, 1))
    hi = lo + float(uniform(g, 1, 4, 1))
    return {"coef": torch.stack([amp, freq, phase], 1), "c0": float(randn(g, 1)), "lo": lo, "hi": hi,
            "tol": tol, "lipschitz": float((amp.abs() * freq).sum())}


def cases_step(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", f"sum of sines, tol {tol}", _step_case(g, tol)) for tol in ((0.1,) if visible else (0.1, 0.05))]
    out.append(("edge", "tight tolerance 0.02", _step_case(g, 0.02)))
    if not visible:
        out.append(("edge", "tolerance larger than the whole variation", _step_case(g, 10.0)))
    return out


def _step_hint(worst_x: float, frac: float, lo: float, hi: float, width: float) -> str:
    if frac > 0.5:
        return ("the staircase does not follow f: unit k switches on at its step position, its output "
                "weight is the jump of f there, and b2 is the value at lo")
    if worst_x - lo < width or hi - worst_x < width:
        return "the steps do not cover [lo, hi] up to its ends: the first and last steps must reach lo and hi"
    return "the steps are too wide: with width <= tol / L, f changes by at most tol within one step"


def check_step(case: dict, r: dict) -> Check:
    net, problems = _network(r["value"], "step_approximation")
    contract = list(problems)
    if net is None:
        return problems, contract
    lo, hi, tol, lip = case["lo"], case["hi"], case["tol"], case["lipschitz"]
    cap = 2 * math.ceil(lip * (hi - lo) / tol) + 2
    if net[0].numel() > cap:
        return [f"{net[0].numel()} hidden units; at most {cap} allowed (2·ceil(L·(hi - lo)/tol) + 2)"
                + likely("steps narrower than needed; width tol / L is enough")], contract
    g = torch.Generator().manual_seed(int(1e6 * (hi - lo)) % (2**31))
    x = torch.cat([torch.linspace(lo, hi, 6001, dtype=torch.float64), uniform(g, lo, hi, 2000)])
    coef = case["coef"].double()
    target = case["c0"] + (coef[:, 0] * torch.sin(coef[:, 1] * x[:, None] + coef[:, 2])).sum(-1)
    approx = _evaluate(net, x, lambda z: (z >= 0).to(torch.float64))
    err = (approx - target).abs()
    bad = ~(err <= tol * (1 + 1e-9) + 1e-12)  # NaN is bad too
    if not bool(bad.any()):
        return [], contract
    worst = int(err.argmax())
    frac = float(bad[:6001].double().mean())  # the even grid: share of [lo, hi]
    wx = float(x[worst])
    where = (f" at x = {wx:.6g} (first above tol at x = {float(x[:6001][bad[:6001]].min()):.6g})"
             if case["visible"] and bool(bad[:6001].any()) else f" at x = {wx:.6g}" if case["visible"] else "")
    return [f"max |f̂(x) - f(x)| = {float(err[worst]):.3g}{where}, above tol = {tol:g}; the error exceeds tol on "
            f"{frac:.0%} of [lo, hi]" + likely(_step_hint(wx, frac, lo, hi, tol / lip))], contract


# ----------------------------------------------------------------------------------------------
# Task 7, collapse_linear: a stack of linear layers as one


def ref_collapse(weights: list, biases: list) -> tuple[torch.Tensor, torch.Tensor]:
    W = weights[0].double()
    b = biases[0].double() if biases[0] is not None else torch.zeros(W.shape[0], dtype=torch.float64)
    for W_d, b_d in zip(weights[1:], biases[1:]):
        W, b = W_d.double() @ W, W_d.double() @ b + (b_d.double() if b_d is not None else 0)
    return W, b


def cases_collapse(g: torch.Generator, visible: bool) -> Cases:
    out = []
    for i in range(2 if visible else 3):
        depth = rand_int(g, 2, 5)
        ws = mlp_weights(g, layer_sizes(g, depth))
        out.append(("main", f"{depth} random layers #{i + 1}", {"weights": ws[0::2], "biases": ws[1::2]}))
    ws = mlp_weights(g, layer_sizes(g, 3))
    out.append(("edge", "a layer without bias (None)", {"weights": ws[0::2], "biases": [ws[1], None, ws[5]]}))
    if not visible:
        ws = mlp_weights(g, layer_sizes(g, 1))
        out.append(("edge", "a single layer", {"weights": ws[0::2], "biases": ws[1::2]}))
        ws = mlp_weights(g, layer_sizes(g, 2))
        out.append(("edge", "first layer without bias (None)", {"weights": ws[0::2], "biases": [None, ws[3]]}))
    return out


ORDER = "W = W_L ⋯ W_2 W_1, applied right to left"


def _collapse_W_hint(weights: list, got: torch.Tensor, want: torch.Tensor) -> str:
    if tuple(got.shape) == tuple(want.shape[::-1]) and len(set(want.shape)) > 1:
        return f"W maps n_0 inputs to n_L outputs, so its shape is (n_L, n_0) = {shape_text(want)}; {ORDER}"
    try:
        rev = weights[0].double()
        for W_d in weights[1:]:
            rev = rev @ W_d.double()
        if allclose(got, rev):
            return f"the product order: {ORDER} (the first layer acts first, so it is rightmost)"
    except RuntimeError:
        pass
    if allclose(got, weights[-1].double()) or allclose(got, weights[0].double()):
        return f"only one layer's weight; every layer contributes: {ORDER}"
    return f"the product of the weights: {ORDER}"


def _collapse_b_hint(weights: list, biases: list, got: torch.Tensor) -> str:
    ws = [w.double() for w in weights]
    terms = []  # bias d as seen at the output: W_L ⋯ W_(d+1) b_d
    for d, b_d in enumerate(biases):
        if b_d is None:
            continue
        t = b_d.double()
        for W in ws[d + 1:]:
            t = W @ t
        terms.append((d, t))
    total = sum(t for _, t in terms)
    if biases[-1] is not None and allclose(got, biases[-1].double()):
        return "only the last bias; the earlier biases pass through the later layers: b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L"
    for d, t in terms:
        if len(terms) > 1 and allclose(got, total - t):
            return (f"the bias of layer {d + 1} is missing (a None bias counts as zero; every other bias still "
                    "passes through the layers after it)")
    return "missing bias propagation — every bias passes through the layers after it: b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L"


def check_collapse(case: dict, r: dict) -> Check:
    pair, why = as_tuple(r["value"], 2, "collapse_linear", "(W, b)")
    contract = inputs_changed(case, r, ["weights", "biases"], ["weights", "biases"])
    if pair is None:
        return [why], contract + [why]
    W, why_w = as_tensor(pair[0], "W")
    b, why_b = as_tensor(pair[1], "b")
    if W is None or b is None:
        whys = [w for w in (why_w, why_b) if w]
        return whys, contract + whys
    want_W, want_b = ref_collapse(case["weights"], case["biases"])
    line = differs("W", W, want_W, case)
    if line:
        return [line + likely(_collapse_W_hint(case["weights"], W, want_W))], contract
    line = differs("b", b, want_b, case)
    if line:
        return [line + likely(_collapse_b_hint(case["weights"], case["biases"], b))], contract
    return [], contract


COLLAPSE_ERRORS = (
    ("cannot be multiplied", f"the product order: {ORDER}; the shapes chain only in that order"),
    ("size mismatch", f"the product order: {ORDER}; the shapes chain only in that order"),
    ("NoneType", "a bias can be None: treat it as zero"),
)
