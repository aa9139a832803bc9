"""hw2 tasks 1–4, the handout's first section: counting parameters and the perceptron.

Each task keeps its cases (visible ones a subset of the same recipes as the hidden ones), the
grader's reference, the check of one case and the hints that name a likely mistake together.
"""

from __future__ import annotations

import math

import torch

from course_nn.grading.feedback import HIDDEN, likely, shape_text
from course_nn.grading.hw2.common import (
    ATOL,
    RTOL,
    Cases,
    Check,
    allclose,
    as_scalar,
    as_tensor,
    as_tuple,
    inputs_changed,
    rand_int,
    randn,
    uniform,
)

XOR_RADIUS = 0.5  # XOR-style data: points within this distance of a corner (±1, ±1)


def sign(z: torch.Tensor) -> torch.Tensor:
    """The lecture's sign: +1 for z >= 0, -1 otherwise."""
    return torch.where(z >= 0, 1.0, -1.0).to(torch.float64)


def pm(v: float) -> str:
    """A label as the lecture writes it: +1 / -1 (anything else as a number)."""
    return "+1" if v == 1 else "-1" if v == -1 else f"{v:g}"


# ----------------------------------------------------------------------------------------------
# Task 1, count_parameters: weights and biases of a fully connected network


def ref_count(sizes: list[int]) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def cases_count(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", f"random sizes #{i + 1}", {"sizes": [rand_int(g, 1, 900) for _ in range(rand_int(g, 3, 6))]})
           for i in range(2 if visible else 4)]
    out.append(("edge", "[784, 10] (logistic regression on MNIST, the first poll)", {"sizes": [784, 10]}))
    out.append(("edge", "one layer of width 1", {"sizes": [rand_int(g, 2, 50), 1]}))
    if not visible:
        out.append(("edge", "one size only: no layers, 0 parameters", {"sizes": [rand_int(g, 2, 50)]}))
    return out


def _count_hint(sizes: list[int], got: float, visible: bool) -> str:
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights, outs, ins = sum(a * b for a, b in pairs), sum(sizes[1:]), sum(sizes[:-1])
    if got == weights:
        short = f" = {outs}" if visible else ""
        return (f"the biases are missing — the count is short by n_1 + ⋯ + n_L{short}, one bias per output "
                "unit of every layer")
    if got == weights + ins:
        return "one bias per input unit; each layer has one bias per output unit (n_d biases for layer d)"
    if got == weights + sum(sizes):
        return "the input layer got biases too; only the L layers with weights have biases"
    if got in (sum(sizes), outs):
        return "that counts units, not parameters: layer d has n_(d-1)·n_d weights and n_d biases"
    if len(sizes) > 2 and got in (ref_count(sizes[1:]), ref_count(sizes[:-1])):
        return "a layer is left out: every pair of neighbouring sizes is one layer"
    return "layer d (n_(d-1) inputs, n_d outputs) has n_(d-1)·n_d weights plus n_d biases; sum over all layers"


def check_count(case: dict, r: dict) -> Check:
    contract = [] if r.get("value_type") == "int" else [f"returned a {r.get('value_type')}, expected a Python int"]
    contract += inputs_changed(case, r, ["layer_sizes"], ["sizes"])
    sizes, want = case["sizes"], ref_count(case["sizes"])
    got, why = as_scalar(r["value"], "the result")
    if got is None:
        return [why], contract
    if got == want:
        return [], contract
    shown = f"expected {want}, got {got:g}" if case["visible"] else f"returned a wrong count ({HIDDEN})"
    return [f"count_parameters({sizes}) {shown}" + likely(_count_hint(sizes, got, case["visible"]))], contract


# ----------------------------------------------------------------------------------------------
# Task 2, perceptron_predict: sign(Xw + b) with sign(0) = +1


def _boundary_case(g) -> dict:
    """Integer points and weights, two rows exactly on the boundary wᵀx + b = 0 (sign must be +1)."""
    n, d = rand_int(g, 6, 12), rand_int(g, 2, 4)
    w = torch.randint(-3, 4, (d,), generator=g).double()
    w[0] = float(rand_int(g, 1, 3))
    b = float(rand_int(g, -2, 2))
    X = torch.randint(-3, 4, (n, d), generator=g).double()
    for row in (0, n // 2):
        X[row, 0] = -(X[row, 1:] @ w[1:] + b) / w[0]
    return {"X": X, "w": w, "b": b}


def cases_predict(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", f"random points #{i + 1}", {"X": randn(g, n, d), "w": randn(g, d), "b": float(randn(g, 1))})
           for i, (n, d) in enumerate([(rand_int(g, 5, 12), rand_int(g, 2, 5)) for _ in range(2 if visible else 4)])]
    out.append(("edge", "points exactly on the boundary (sign(0) = +1)", _boundary_case(g)))
    if not visible:
        case = _boundary_case(g)
        case["b"] = torch.tensor(case["b"], dtype=torch.float64)
        out += [("edge", "points on the boundary, b a 0-dim tensor", case),
                ("edge", "a single point", {"X": randn(g, 1, 3), "w": randn(g, 3), "b": 0.25})]
    return out


def _predict_hint(got: torch.Tensor, want: torch.Tensor, z: torch.Tensor, i: int, X, w, b: float) -> str:
    if bool(z[i] == 0) and float(got[i]) == 0:
        return "torch.sign(0) is 0, but the perceptron's sign(0) is +1 (use torch.where(z >= 0, 1.0, -1.0))"
    if bool(z[i] == 0):
        return "sign(0) is +1 (use z >= 0, not z > 0)"
    if bool((got == -want)[z != 0].all()):
        return "the labels are flipped: predict +1 where w·x + b >= 0 and -1 below"
    if bool(((got == 0) | (got == 1)).all()):
        return "the labels are ±1, not 0/1: predict -1 where w·x + b < 0"
    if bool((got == sign(X @ w)).all()):
        return "the bias is missing: z = X w + b"
    if bool((got == sign(X @ w - b)).all()):
        return "the bias is subtracted: z = X w + b"
    return "predict sign(w·x + b) for every row x of X, with sign(z) = +1 for z >= 0 and -1 otherwise"


def check_predict(case: dict, r: dict) -> Check:
    t, why = as_tensor(r["value"], "the result")
    contract = inputs_changed(case, r, ["X", "w"], ["X", "w"])
    if t is None:
        return [why], contract + [why]
    n = case["X"].shape[0]
    if tuple(t.shape) != (n,):
        contract.append(f"returned shape {shape_text(t)}, expected ({n},): one label per row of X")
    if t.numel() != n:
        return [f"returned {t.numel()} predictions for {n} rows of X"], contract
    X, w, b = case["X"].double(), case["w"].double(), float(case["b"])
    got, z = t.reshape(-1), X @ w + b
    want = sign(z)
    wrong = (got != want).nonzero().reshape(-1)
    if wrong.numel() == 0:
        return [], contract
    on_boundary = wrong[z[wrong] == 0]
    i = int(on_boundary[0] if on_boundary.numel() else wrong[0])
    where = " where w·x + b = 0 exactly" if bool(z[i] == 0) else ""
    count = f"{wrong.numel()} of {n} predictions wrong"
    if case["visible"]:
        zs = where or f" where w·x + b = {float(z[i]):.4g}"
        line = f"prediction[{i}] expected {pm(float(want[i]))}, got {pm(float(got[i]))}{zs} ({count})"
    else:
        what = "has the wrong sign" if float(got[i]) in (1.0, -1.0) else "is neither +1 nor -1"
        line = f"prediction[{i}] {what}{where} ({count}; {HIDDEN})"
    return [line + likely(_predict_hint(got, want, z, i, X, w, b))], contract


# (text in an exception's message, likely mistake)
PREDICT_ERRORS = (("NoneType", "b can be a float or a 0-dim tensor; w·x + b works for both"),)


# ----------------------------------------------------------------------------------------------
# Task 3, perceptron_train: Rosenblatt's rule


def ref_perceptron(X: torch.Tensor, y: torch.Tensor, epochs: int,
                   variant: str = "") -> tuple[torch.Tensor, torch.Tensor]:
    """Rosenblatt's rule as pinned in the handout (zero start, rows in order, mistake if <= 0).

    ``variant`` computes a typical wrong rule instead, to name the mistake in feedback: "strict"
    (mistake only if < 0), "sign" (w - y·x), "nobias" (b never updated), "always" (every point).
    """
    w, b = torch.zeros(X.shape[1], dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    X, y = X.double(), y.double()
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(X, y):
            m = y_i * (x_i @ w + b)
            if variant == "always" or (m < 0 if variant == "strict" else m <= 0):
                s = -y_i if variant == "sign" else y_i
                w, b, updated = w + s * x_i, (b if variant == "nobias" else b + s), True
        if not updated:
            break
    return w, b


def _separable(g: torch.Generator, n: int, d: int, margin: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    w = randn(g, d)
    w = w / w.norm()
    b = float(uniform(g, -0.3, 0.3, 1))
    X = torch.empty(0, d, dtype=torch.float64)
    while X.shape[0] < n:
        cand = uniform(g, -1, 1, 4 * n, d)
        X = torch.cat([X, cand[(cand @ w + b).abs() >= margin]])
    X = X[:n]
    return X, sign(X @ w + b)


def _needs_bias(g: torch.Generator, n: int, d: int, margin: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable data that no line through the origin separates: a perceptron must learn b.

    The data's boundary has |b| >= 0.4, and it holds a pair x, 2x (same direction from the origin)
    on opposite sides: sign(w·x) = sign(w·2x) for every w, so b = 0 always misclassifies one of them.
    """
    while True:
        w = randn(g, d)
        w = w / w.norm()
        b = float(uniform(g, 0.4, 0.6, 1)) * (1 if bool(torch.rand(1, generator=g) < 0.5) else -1)
        t = -b * 0.7  # w·x = t: x on b's side by margin, 2x (w·2x = 2t) on the other side by margin
        other = randn(g, d, scale=0.1)
        other = other - (other @ w) * w
        x = t * w + other
        pair = torch.stack([x, 2 * x])
        X = torch.empty(0, d, dtype=torch.float64)
        while X.shape[0] < n - 2:
            cand = uniform(g, -1, 1, 4 * n, d)
            X = torch.cat([X, cand[(cand @ w + b).abs() >= margin]])
        X = torch.cat([X[:n - 2], pair])
        X = X[torch.randperm(n, generator=g)]
        y = sign(X @ w + b)
        if bool((X.abs() <= 1).all()) and bool(((X @ w + b).abs() >= margin).all()) and len(set(y.tolist())) == 2:
            return X, y


def cases_train(g: torch.Generator, visible: bool) -> Cases:
    out = []
    for i in range(1 if visible else 3):
        X, y = _separable(g, rand_int(g, 20, 40), rand_int(g, 2, 4))
        out.append(("main", f"separable data #{i + 1}", {"X": X, "y": y, "epochs": 1000, "mode": "separable"}))
    for i in range(1 if visible else 2):
        X, y = _needs_bias(g, rand_int(g, 20, 40), rand_int(g, 2, 4))
        out.append(("main", f"separable data that needs the bias #{i + 1}",
                    {"X": X, "y": y, "epochs": 1000, "mode": "separable"}))
    for i in range(1 if visible else 2):
        n, d = rand_int(g, 8, 15), rand_int(g, 2, 4)
        epochs = rand_int(g, 1, 3)
        out.append(("edge", f"{epochs} epoch(s) on random labels: the exact Rosenblatt updates #{i + 1}",
                    {"X": randn(g, n, d), "y": sign(randn(g, n)), "epochs": epochs, "mode": "exact"}))
    if not visible:
        X, y = _separable(g, 10, 2)
        out.append(("edge", "epochs = 0: w and b stay zero", {"X": X, "y": y, "epochs": 0, "mode": "exact"}))
    return out


def _wb(value, d: int) -> tuple[torch.Tensor | None, float | None, list[str]]:
    pair, why = as_tuple(value, 2, "perceptron_train", "(w, b)")
    if pair is None:
        return None, None, [why]
    w, why_w = as_tensor(pair[0], "w")
    b, why_b = as_scalar(pair[1], "b")
    problems = [p for p in (why_w, why_b) if p]
    if w is not None and tuple(w.shape) != (d,):
        problems.append(f"w has shape {shape_text(w)}, expected ({d},)")
    return (w if not problems else None), b, problems


TRAIN_VARIANTS = (
    ("strict", "no update when y·(w·x + b) = 0 — a point on the boundary is a mistake too (update when "
               "y·(w·x + b) <= 0); from w = 0, b = 0 every point starts on the boundary"),
    ("sign", "the sign of the update: on a mistake w ← w + y·x and b ← b + y"),
    ("nobias", "b is never updated: on a mistake also b ← b + y"),
    ("always", "an update on every point; update only on mistakes, y·(w·x + b) <= 0"),
)


def _train_hint(case: dict, got: torch.Tensor) -> str:
    for variant, text in TRAIN_VARIANTS:
        w, b = ref_perceptron(case["X"], case["y"], case["epochs"], variant)
        if allclose(got, torch.cat([w, b.reshape(1)])):
            return text
    return ("follow the pinned rule exactly: start at w = 0, b = 0, visit the rows in order, on a mistake "
            "(y·(w·x + b) <= 0) set w ← w + y·x and b ← b + y, stop after `epochs` epochs or a clean one")


def check_train(case: dict, r: dict) -> Check:
    d = case["X"].shape[1]
    w, b, problems = _wb(r["value"], d)
    contract = list(problems) + inputs_changed(case, r, ["X", "y"], ["X", "y"])
    if w is None or b is None:
        return problems, contract
    got = torch.cat([w, torch.tensor([b], dtype=torch.float64)])
    if case["mode"] == "separable":
        wrong = (sign(case["X"].double() @ w + b) != case["y"].double()).nonzero().reshape(-1)
        if wrong.numel() == 0:
            return [], contract
        return [f"{wrong.numel()} of {len(case['y'])} training points (first: row {int(wrong[0])}) are "
                f"misclassified after at most {case['epochs']} epochs; on separable data the rule reaches "
                "none" + likely(_train_hint(case, got))], contract
    want_w, want_b = ref_perceptron(case["X"], case["y"], case["epochs"])
    want = torch.cat([want_w, want_b.reshape(1)])
    bad = (~torch.isclose(got, want, rtol=RTOL, atol=ATOL)).nonzero().reshape(-1)
    if bad.numel() == 0:
        return [], contract
    i = int(bad[0])
    name = f"w[{i}]" if i < d else "b"
    shown = (f"expected {float(want[i]):.6g}, got {float(got[i]):.6g}" if case["visible"]
             else f"is wrong ({HIDDEN})")
    return [f"after {case['epochs']} epoch(s) {name} {shown}" + likely(_train_hint(case, got))], contract


# ----------------------------------------------------------------------------------------------
# Task 4, xor_perceptrons: three perceptrons for XOR-style data


def xor_data(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points within XOR_RADIUS of a corner (±1, ±1); label +1 where x1·x2 > 0, else -1."""
    corners = (torch.randint(0, 2, (n, 2), generator=g) * 2 - 1).double()
    r = XOR_RADIUS * torch.rand(n, generator=g, dtype=torch.float64).sqrt()
    a = uniform(g, 0, 2 * math.pi, n)
    x = corners + torch.stack([r * torch.cos(a), r * torch.sin(a)], 1)
    return x, corners.prod(1)


def cases_xor(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", f"{n} XOR-style points #{i + 1}", {"x": xor_data(n, g)[0]})
           for i, n in enumerate((200,) if visible else (500, 500))]
    # The hardest points: exactly on the circles of radius XOR_RADIUS around the corners.
    a = uniform(g, 0, 2 * math.pi, 400)
    corners = (torch.randint(0, 2, (400, 2), generator=g) * 2 - 1).double()
    ring = corners + XOR_RADIUS * torch.stack([torch.cos(a), torch.sin(a)], 1)
    out.append(("edge", f"points at distance exactly {XOR_RADIUS} from the corners", {"x": ring}))
    return out


XOR_KEYS = ("w_A", "b_A", "w_B", "b_B", "w_C", "b_C")


def _xor_params(value, r: dict) -> tuple[dict | None, list[str]]:
    if not isinstance(value, dict):
        return None, [f"returned {r.get('value_type')}, expected a dict with keys {', '.join(XOR_KEYS)}"]
    missing = [k for k in XOR_KEYS if k not in value]
    if missing:
        return None, [f"the dict lacks {', '.join(missing)} (keys must be exactly {', '.join(XOR_KEYS)})"]
    params, problems = {}, []
    for k in XOR_KEYS:
        if k.startswith("w"):
            t, why = as_tensor(value[k], k)
            if t is not None and t.numel() != 2:
                why = f"{k} has shape {shape_text(t)}, expected (2,)"
            params[k] = t.reshape(2) if not why else None
        else:
            params[k], why = as_scalar(value[k], k)
        if why:
            problems.append(why)
    return (None, problems) if problems else (params, [])


def check_xor(case: dict, r: dict) -> Check:
    params, problems = _xor_params(r["value"], r)
    if params is None:
        return problems, problems
    x, labels = case["x"], torch.where(case["x"].prod(1) > 0, 1.0, -1.0).double()
    h_a = sign(x @ params["w_A"] + params["b_A"])
    h_b = sign(x @ params["w_B"] + params["b_B"])
    pred = sign(torch.stack([h_a, h_b], 1) @ params["w_C"] + params["b_C"])
    wrong = pred != labels
    if not bool(wrong.any()):
        return [], []
    corner = x.sign()
    parts, whole = [], []
    for cx, cy in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
        near = (corner[:, 0] == cx) & (corner[:, 1] == cy)
        k, m = int((wrong & near).sum()), int(near.sum())
        if k:
            parts.append(f"near ({cx:+d}, {cy:+d}): {k} of {m}")
            if k == m:
                whole.append(f"({cx:+d}, {cy:+d})")
    line = f"{int(wrong.sum())} of {len(labels)} points misclassified — {'; '.join(parts)}"
    if case["visible"]:
        i = int(wrong.nonzero()[0])
        line += (f"; e.g. point {i} at ({float(x[i, 0]):.3g}, {float(x[i, 1]):.3g}) should be "
                 f"{pm(float(labels[i]))}, got {pm(float(pred[i]))}")
    if bool(wrong.all()):
        hint = "the output is inverted: flip the signs of w_C and b_C"
    elif whole:
        hint = (f"every point near {', '.join(whole)} is on the wrong side: check the hidden outputs (h_A, h_B) "
                "there and how w_C, b_C combine them (+1 near (1, 1) and (-1, -1), -1 near (1, -1) and (-1, 1))")
    else:
        hint = (f"a hidden unit's line cuts through the points within {XOR_RADIUS} of a corner; keep each line "
                "clear of those discs so that every point near a corner gets that corner's label")
    return [line + likely(hint)], []
