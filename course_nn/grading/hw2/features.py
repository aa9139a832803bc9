"""hw2 task 11, the handout's fifth section: hand-made features in which a linear classifier
separates the ``circles`` data (the trainer's task: class 1 in the disc r < 0.5, class 0 on the
ring 0.7 < r < 1).

The child only returns the features the submission computes for points the parent sends (all of
them, a reordered subset, one point); the labels never leave the parent. The parent standardises
the features, trains its own logistic regression on the training points' features and measures
accuracy on the test points' — it never trusts an accuracy computed by the child. A draw earns
full credit at PASS_ACCURACY; a map no better than the raw inputs (the same logistic regression
on x1, x2, which stays near chance) earns nothing; in between the credit grows linearly.
"""

from __future__ import annotations

import math

import torch

from course_nn.data.tasks import circles
from course_nn.grading.feedback import HIDDEN, likely, shape_text
from course_nn.grading.hw2.common import Cases, Check, allclose, as_tensor, inputs_changed, rand_int

PASS_ACCURACY = 0.99  # test accuracy of the reference logistic regression on the features
MAX_FEATURES = 32  # a hand-made map, not a random expansion of thousands of columns
N_TRAIN, N_TEST = 300, 700
L2 = 1e-4  # keeps the weights finite on separable features, where the logistic loss has no minimum


# ----------------------------------------------------------------------------------------------
# Cases


def _draw(g: torch.Generator, dtype: torch.dtype, edges: bool = False) -> dict:
    """Fresh circles points, train and test rows shuffled together so the child cannot tell them
    apart; the labels and which rows train stay with the parent (keys with a leading _)."""
    seed = rand_int(g, 0, 2**30)
    x, y = circles(N_TRAIN + N_TEST, torch.Generator().manual_seed(seed))
    if edges:  # the test points sit exactly on the classes' edges: radius 0.5 inside, 0.7 on the ring
        k = N_TEST // 2
        angle = torch.rand(N_TEST, generator=g) * 2 * math.pi
        radius = torch.cat([torch.full((k,), 0.5), torch.full((N_TEST - k,), 0.7)])
        x[N_TRAIN:] = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
        y[N_TRAIN:] = torch.cat([torch.ones(k), torch.zeros(N_TEST - k)]).long()
    order = torch.randperm(N_TRAIN + N_TEST, generator=g)
    n = len(order)
    subset = torch.randperm(n, generator=g)[:rand_int(g, 5, 40)]
    return {"X": x[order].to(dtype), "subset": subset, "single": rand_int(g, 0, n - 1),
            "_y": y[order], "_train": order < N_TRAIN}


def cases_features(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", f"fresh circles #{i + 1}", _draw(g, torch.float32)) for i in range(1 if visible else 3)]
    out.append(("edge", "test points exactly at radius 0.5 (inside) and 0.7 (ring)", _draw(g, torch.float32, True)))
    if not visible:
        out.append(("edge", "float64 points", _draw(g, torch.float64)))
    return out


# ----------------------------------------------------------------------------------------------
# The parent's own logistic regression


def accuracy(features: torch.Tensor, y: torch.Tensor, train: torch.Tensor) -> float:
    """Test accuracy of a logistic regression trained (L-BFGS, L2 = L2) on the standardised
    features of the training rows. Constant columns carry nothing and are dropped."""
    f = features.detach().double()
    f_train, y_train = f[train], y[train].double()
    mean, std = f_train.mean(0), f_train.std(0)
    keep = std > 1e-12
    f = (f[:, keep] - mean[keep]) / std[keep]
    w = torch.zeros(f.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=300, tolerance_grad=1e-10, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = f[train] @ w + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y_train) + L2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        pred = (f[~train] @ w + b >= 0).long()
    return float((pred == y[~train]).double().mean())


def _floor(case: dict) -> float:
    """What the raw inputs reach (or the larger class's share): the accuracy worth no credit.
    Computed once per case and kept with the parent's part of it."""
    if "_floor" not in case:
        y_test = case["_y"][~case["_train"]].double()
        majority = max(float(y_test.mean()), 1 - float(y_test.mean()))
        case["_floor"] = max(majority, accuracy(case["X"], case["_y"], case["_train"]))
    return case["_floor"]


# ----------------------------------------------------------------------------------------------
# Checking one case


def _features(case: dict, value, name: str = "the result") -> tuple[torch.Tensor | None, list[str], list[str]]:
    """(features (N, k), problems, contract problems) of a returned value."""
    t, why = as_tensor(value, name)
    n = case["X"].shape[0]
    if t is None:
        return None, [why], [why]
    contract = []
    if t.dim() == 1 and t.shape[0] == n:
        contract.append(f"returned shape ({n},); return (N, k) — one row of features per point "
                        "(a single feature: .unsqueeze(1))")
        t = t.unsqueeze(1)
    if t.dim() != 2 or t.shape[0] != n:
        line = f"returned shape {shape_text(t)} for {n} points; return one row of features per point, (N, k)"
        return None, [line], [line]
    if t.shape[1] > MAX_FEATURES:
        line = f"returned {t.shape[1]} features; at most {MAX_FEATURES} (a few well-chosen ones are the point)"
        return None, [line], [line]
    if t.shape[1] == 0 or not bool(torch.isfinite(t).all()):
        line = "returned no features" if t.shape[1] == 0 else "some features are NaN or infinite"
        return None, [line + likely("compute finite features of every point")], [line]
    return t, [], contract


def _row_wise(case: dict, r: dict, full: torch.Tensor) -> list[str]:
    """Contract: the same point gets the same features in any batch (a reordered subset, one point)."""
    for key, rows in (("subset_value", case["subset"]), ("single_value", torch.tensor([case["single"]]))):
        part, _, _ = _features({"X": case["X"][rows]}, r.get(key))
        if part is None or not allclose(part, full[rows], rtol=1e-5, atol=1e-6):
            return ["the features of a point changed with the other points in the batch (or for a batch of one); "
                    "compute each row's features from that row alone (no batch statistics)"]
    return []


def _hint(case: dict, acc: float) -> str:
    if acc <= _floor(case) + 0.005:
        return ("these features are the inputs themselves or a linear map of them: a line in them is still a line in "
                "the plane, and no line separates a disc from the ring around it; add a feature that grows with the "
                "distance from the centre")
    return ("a linear classifier draws a hyperplane in your features: give it one feature that is small inside "
            "the disc (r < 0.5) and large on the ring (r > 0.7), such as the squared distance x1² + x2²")


def _scored(case: dict, r: dict) -> tuple[float, list[str], list[str]]:
    """(credit in [0, 1], problems, contract problems) of one case."""
    features, problems, contract = _features(case, r.get("value"))
    contract += inputs_changed(case, r, ["X"], ["X"])
    if features is None:
        return 0.0, problems, contract
    contract += _row_wise(case, r, features)
    acc = accuracy(features, case["_y"], case["_train"])
    if acc >= PASS_ACCURACY:
        return 1.0, [], contract
    floor = _floor(case)
    credit = max(0.0, min(1.0, (acc - floor) / (PASS_ACCURACY - floor))) if floor < PASS_ACCURACY else 0.0
    raw = f"; on the raw inputs x1, x2 it reaches {floor:.1%}" if case["visible"] else ""
    line = (f"a logistic regression trained on your features of {N_TRAIN} fresh points classifies {acc:.1%} of "
            f"{N_TEST} test points correctly, {PASS_ACCURACY:.0%} needed{raw} (credit {credit:.0%} of this case)")
    return credit, [line + likely(_hint(case, acc))], contract


def check_features(case: dict, r: dict) -> Check:
    _, problems, contract = _scored(case, r)
    if not case["visible"]:
        problems = [p.replace("of this case)", f"of this case; {HIDDEN})") for p in problems]
    return problems, contract


def credit_features(case: dict, r: dict) -> float:
    """Partial credit of a failing case: how far the accuracy got from the raw inputs' to the bar."""
    return _scored(case, r)[0]
