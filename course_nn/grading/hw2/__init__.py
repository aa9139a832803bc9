"""hw2 on the parent side: choose the inputs, compute what is expected with torch, score.

The child (``child/probe_hw2.py``) only reports what the submission returned. Every expected
value is computed here: perceptron labels and errors, interpolation and approximation errors on
dense grids, the composed stack of linear layers, an equivalent torch MLP's outputs and gradients,
one SGD step, one epoch of training, and the test accuracy of the MLP the child trained on a
spiral (evaluated here from the returned weights). Hidden cases come from a secret seed and their
feedback never prints expected values.

Categories (see ``course_nn/registry/hw2.py``): the share of "main" cases that pass, the share of
"edge" cases (edge inputs, the lecture's examples, training end to end) that pass, and the
contract (types, shapes, inputs unchanged, the MLP calls the supplied Functions). Each category
has visible cases (the public tests) and hidden ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_nn.grading.outcome import Outcome, case_error, unrunnable
from course_nn.registry import Assignment, Task

PROBE = "probe_hw2"
RTOL, ATOL = 1e-6, 1e-9  # float64 comparisons
SPIRAL_BAR = 0.90  # test accuracy the trained MLP must reach
SPIRAL = {"sizes": [2, 32, 32, 2], "n_train": 400, "n_test": 1000, "epochs": 100, "batch": 50,
          "lr": 0.1, "momentum": 0.9}
XOR_RADIUS = 0.5  # XOR-style data: points within this distance of a corner (±1, ±1)


# ----------------------------------------------------------------------------------------------
# Small helpers


def _int(g: torch.Generator, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def _uniform(g: torch.Generator, lo: float, hi: float, *shape) -> torch.Tensor:
    return torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def _randn(g: torch.Generator, *shape, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def _sizes(g: torch.Generator, layers: int, lo: int = 2, hi: int = 7) -> list[int]:
    """Layer widths where neighbours differ, so a swapped transpose or product order cannot hide."""
    sizes = [_int(g, lo, hi)]
    while len(sizes) < layers + 1:
        n = _int(g, lo, hi)
        if n != sizes[-1]:
            sizes.append(n)
    return sizes


def sign(z: torch.Tensor) -> torch.Tensor:
    """The lecture's sign: +1 for z >= 0, -1 otherwise."""
    return torch.where(z >= 0, 1.0, -1.0).to(torch.float64)


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + (",)" if t.dim() == 1 else ")")


def _tensor(value, name: str) -> tuple[torch.Tensor | None, str]:
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


def _scalar(value, name: str) -> tuple[float | None, str]:
    t, why = _tensor(value, name)
    if t is None:
        return None, why.replace("a tensor", "a number or a 0-dim tensor")
    if t.numel() != 1:
        return None, f"{name} has shape {_shape(t)}, expected a number or a 0-dim tensor"
    return float(t.reshape(())), ""


def _worst(actual: torch.Tensor, expected: torch.Tensor, rtol: float = RTOL, atol: float = ATOL):
    """None when close; else (flat index, expected, actual, relative error) of the worst entry."""
    a, e = actual.double().reshape(-1), expected.double().reshape(-1)
    bad = ~torch.isclose(a, e, rtol=rtol, atol=atol)
    if not bool(bad.any()):
        return None
    err = ((a - e).abs() / (atol + rtol * e.abs())).nan_to_num(nan=math.inf)
    err = torch.where(bad, err, torch.zeros_like(err))
    i = int(err.argmax())
    ev, av = float(e[i]), float(a[i])
    rel = abs(av - ev) / max(abs(ev), 1e-300) if math.isfinite(av) else math.inf
    return i, ev, av, rel


def _index(i: int, shape) -> str:
    if len(shape) == 0:
        return ""
    idx = torch.unravel_index(torch.tensor(i), tuple(shape))
    return "[" + ", ".join(str(int(k)) for k in idx) + "]"


def _mismatch(what: str, actual: torch.Tensor, expected: torch.Tensor, case: dict,
              rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """One feedback line when ``actual`` differs from ``expected`` (values shown only if visible)."""
    if tuple(actual.shape) != tuple(expected.shape):
        return f"{what} has shape {_shape(actual)}, expected {_shape(expected)}"
    w = _worst(actual, expected, rtol, atol)
    if w is None:
        return None
    i, ev, av, rel = w
    where = f"{what}{_index(i, expected.shape)}"
    if case["visible"]:
        return f"{where}: expected {ev:.6g}, got {av:.6g}"
    err = f"relative error {rel:.1e}" if abs(ev) > atol else f"absolute error {abs(av - ev):.1e}"
    return f"{where}: {err} ({HIDDEN})"


def _tuple(value, n: int, task: str, names: str) -> tuple[list | None, str]:
    if isinstance(value, (tuple, list)) and len(value) == n:
        return list(value), ""
    got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list)) else \
        (value if isinstance(value, str) else type(value).__name__)
    return None, f"{task} returned {got}; expected a tuple {names}"


# ----------------------------------------------------------------------------------------------
# Expected values (the grader's own implementations)


def ref_count(sizes: list[int]) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


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


def ref_collapse(weights: list, biases: list) -> tuple[torch.Tensor, torch.Tensor]:
    W = weights[0].double()
    b = biases[0].double() if biases[0] is not None else torch.zeros(W.shape[0], dtype=torch.float64)
    for W_d, b_d in zip(weights[1:], biases[1:]):
        W, b = W_d.double() @ W, W_d.double() @ b + (b_d.double() if b_d is not None else 0)
    return W, b


def mlp_forward(weights: list, x: torch.Tensor, activation: str, variant: str = "") -> torch.Tensor:
    """The MLP: Linear, activation, ..., Linear (no activation after the last layer).

    ``variant`` computes a typical wrong forward instead, to name the mistake in feedback:
    "act_out" (activation on the output too), "no_last_bias", "no_bias", "no_act", "other_act".
    """
    relu = (activation == "relu") != (variant == "other_act")
    act = torch.relu if relu else torch.sigmoid
    n = len(weights) // 2
    for d in range(n):
        bias = weights[2 * d + 1]
        if variant == "no_bias" or (variant == "no_last_bias" and d == n - 1):
            bias = None
        x = F.linear(x, weights[2 * d], bias)
        if (d < n - 1 and variant != "no_act") or variant == "act_out":
            x = act(x)
    return x


def _mlp_expected(case: dict) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    ws = [w.detach().double().requires_grad_(True) for w in case["weights"]]
    x = case["x"].double().requires_grad_(True)
    out = mlp_forward(ws, x, case["activation"])
    grads = torch.autograd.grad((out * case["grad_output"].double()).sum(), [*ws, x])
    return out.detach(), [g.detach() for g in grads[:-1]], grads[-1].detach()


def _loss(name: str) -> Callable:
    return F.mse_loss if name == "mse" else F.cross_entropy


def ref_epoch_losses(case: dict) -> tuple[list[float], list[torch.Tensor]]:
    """Each batch's loss (before its update) and the parameters after one epoch of plain SGD."""
    ws = [w.detach().double().clone().requires_grad_(True) for w in case["weights"]]
    losses = []
    for x, y in case["batches"]:
        y = y.double() if y.is_floating_point() else y
        loss = _loss(case["loss"])(mlp_forward(ws, x.double(), case["activation"]), y)
        grads = torch.autograd.grad(loss, ws)
        with torch.no_grad():
            ws = [(w - case["lr"] * g).requires_grad_(True) for w, g in zip(ws, grads)]
        losses.append(float(loss.detach()))
    return losses, [w.detach() for w in ws]


def ref_train_epoch(case: dict) -> tuple[float, list[torch.Tensor]]:
    losses, params = ref_epoch_losses(case)
    return sum(losses) / len(losses), params


# ----------------------------------------------------------------------------------------------
# Data the cases draw from


def spiral(n: int, g: torch.Generator, turns: float = 1.25, noise: float = 0.02) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spiral arms in the plane: labels (n,) int64, points (n, 2) float32."""
    y = torch.randint(0, 2, (n,), generator=g)
    t = torch.rand(n, generator=g, dtype=torch.float64)
    radius = 0.15 + 0.85 * t
    angle = 2 * math.pi * turns * t + math.pi * y
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    return (x + noise * _randn(g, n, 2)).float(), y


def xor_data(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points within XOR_RADIUS of a corner (±1, ±1); label +1 where x1·x2 > 0, else -1."""
    corners = (torch.randint(0, 2, (n, 2), generator=g) * 2 - 1).double()
    r = XOR_RADIUS * torch.rand(n, generator=g, dtype=torch.float64).sqrt()
    a = _uniform(g, 0, 2 * math.pi, n)
    x = corners + torch.stack([r * torch.cos(a), r * torch.sin(a)], 1)
    return x, corners.prod(1)


def _separable(g: torch.Generator, n: int, d: int, margin: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    w = _randn(g, d)
    w = w / w.norm()
    b = float(_uniform(g, -0.3, 0.3, 1))
    X = torch.empty(0, d, dtype=torch.float64)
    while X.shape[0] < n:
        cand = _uniform(g, -1, 1, 4 * n, d)
        X = torch.cat([X, cand[(cand @ w + b).abs() >= margin]])
    X = X[:n]
    return X, sign(X @ w + b)


def _mlp_weights(g: torch.Generator, sizes: list[int], scale: float = 1.0) -> list[torch.Tensor]:
    ws = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ws += [_randn(g, b, a, scale=scale / math.sqrt(a)), _randn(g, b, scale=0.5 * scale)]
    return ws


def _knots(g, k: int, lo: float = -3.0, hi: float = 3.0, min_gap: float = 0.1) -> torch.Tensor:
    """k sorted knot positions in [lo, hi], neighbours at least ``min_gap`` apart."""
    while True:
        x = _uniform(g, lo, hi, k).sort().values
        if bool((x[1:] - x[:-1] >= min_gap).all()):
            return x


def _step_case(g, tol: float) -> dict:
    """f(x) = c0 + Σ a_k sin(ω_k x + φ_k) on a random [lo, hi]; Lipschitz constant Σ |a_k| ω_k."""
    k = _int(g, 1, 3)
    amp = _uniform(g, 0.3, 1.5, k) * (torch.randint(0, 2, (k,), generator=g) * 2 - 1)
    freq = _uniform(g, 0.5, 3.0, k)
    phase = _uniform(g, 0, 2 * math.pi, k)
    lo = float(_uniform(g, -3, 0, 1))
    hi = lo + float(_uniform(g, 1, 4, 1))
    return {"coef": torch.stack([amp, freq, phase], 1), "c0": float(_randn(g, 1)), "lo": lo, "hi": hi,
            "tol": tol, "lipschitz": float((amp.abs() * freq).sum())}


def _mlp_case(g, layers: int, activation: str, batch: int | None = None) -> dict:
    sizes = _sizes(g, layers)
    n = batch if batch is not None else _int(g, 3, 6)
    return {"mode": "forward", "sizes": sizes, "activation": activation, "weights": _mlp_weights(g, sizes),
            "x": _randn(g, n, sizes[0]), "grad_output": _randn(g, n, sizes[-1])}


def _spiral_case(g) -> dict:
    """Spiral training data and initial weights; the test set is regenerated here from test_seed."""
    data_seed, test_seed = _int(g, 0, 2**30), _int(g, 0, 2**30)
    x, y = spiral(SPIRAL["n_train"], torch.Generator().manual_seed(data_seed))
    init = torch.Generator().manual_seed(data_seed + 1)
    weights = []
    for a, b in zip(SPIRAL["sizes"][:-1], SPIRAL["sizes"][1:]):
        bound = math.sqrt(3 / a)  # uniform with variance 1/fan_in
        weights += [(torch.rand(b, a, generator=init) * 2 - 1) * bound, torch.zeros(b)]
    return {"mode": "spiral", "sizes": list(SPIRAL["sizes"]), "activation": "relu", "weights": weights,
            "x": x, "y": y, "epochs": SPIRAL["epochs"], "batch": SPIRAL["batch"], "lr": SPIRAL["lr"],
            "momentum": SPIRAL["momentum"], "seed": data_seed + 2, "test_seed": test_seed}


def _epoch_case(g, n_batches: int, loss: str, activation: str) -> dict:
    sizes = _sizes(g, 2)
    batches = []
    for _ in range(n_batches):
        n = _int(g, 2, 6)
        x = _randn(g, n, sizes[0])
        y = _randn(g, n, sizes[-1]) if loss == "mse" else torch.randint(0, sizes[-1], (n,), generator=g)
        batches.append((x, y))
    return {"weights": _mlp_weights(g, sizes), "activation": activation, "batches": batches, "loss": loss,
            "lr": float(_uniform(g, 0.05, 0.5, 1))}


# ----------------------------------------------------------------------------------------------
# Cases per task: a builder returns [(kind, label, case fields)] for one seed, kind "main" or
# "edge". Visible cases (public seed) are a subset of the same recipes; hidden ones add more.


def _cases_count(g, visible):
    out = [("main", f"random sizes #{i + 1}", {"sizes": [_int(g, 1, 900) for _ in range(_int(g, 3, 6))]})
           for i in range(2 if visible else 4)]
    out.append(("edge", "[784, 10] (logistic regression on MNIST, the first poll)", {"sizes": [784, 10]}))
    out.append(("edge", "one layer of width 1", {"sizes": [_int(g, 2, 50), 1]}))
    if not visible:
        out.append(("edge", "one size only: no layers, 0 parameters", {"sizes": [_int(g, 2, 50)]}))
    return out


def _boundary_case(g) -> dict:
    """Integer points and weights, two rows exactly on the boundary wᵀx + b = 0 (sign must be +1)."""
    n, d = _int(g, 6, 12), _int(g, 2, 4)
    w = torch.randint(-3, 4, (d,), generator=g).double()
    w[0] = float(_int(g, 1, 3))
    b = float(_int(g, -2, 2))
    X = torch.randint(-3, 4, (n, d), generator=g).double()
    for row in (0, n // 2):
        X[row, 0] = -(X[row, 1:] @ w[1:] + b) / w[0]
    return {"X": X, "w": w, "b": b}


def _cases_predict(g, visible):
    out = [("main", f"random points #{i + 1}", {"X": _randn(g, n, d), "w": _randn(g, d), "b": float(_randn(g, 1))})
           for i, (n, d) in enumerate([(_int(g, 5, 12), _int(g, 2, 5)) for _ in range(2 if visible else 4)])]
    out.append(("edge", "points exactly on the boundary (sign(0) = +1)", _boundary_case(g)))
    if not visible:
        case = _boundary_case(g)
        case["b"] = torch.tensor(case["b"], dtype=torch.float64)
        out += [("edge", "points on the boundary, b a 0-dim tensor", case),
                ("edge", "a single point", {"X": _randn(g, 1, 3), "w": _randn(g, 3), "b": 0.25})]
    return out


def _needs_bias(g: torch.Generator, n: int, d: int, margin: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable data that no line through the origin separates: a perceptron must learn b.

    The data's boundary has |b| >= 0.4, and it holds a pair x, 2x (same direction from the origin)
    on opposite sides: sign(w·x) = sign(w·2x) for every w, so b = 0 always misclassifies one of them.
    """
    while True:
        w = _randn(g, d)
        w = w / w.norm()
        b = float(_uniform(g, 0.4, 0.6, 1)) * (1 if bool(torch.rand(1, generator=g) < 0.5) else -1)
        t = -b * 0.7  # w·x = t: x on b's side by margin, 2x (w·2x = 2t) on the other side by margin
        other = _randn(g, d, scale=0.1)
        other = other - (other @ w) * w
        x = t * w + other
        pair = torch.stack([x, 2 * x])
        X = torch.empty(0, d, dtype=torch.float64)
        while X.shape[0] < n - 2:
            cand = _uniform(g, -1, 1, 4 * n, d)
            X = torch.cat([X, cand[(cand @ w + b).abs() >= margin]])
        X = torch.cat([X[:n - 2], pair])
        X = X[torch.randperm(n, generator=g)]
        y = sign(X @ w + b)
        if bool((X.abs() <= 1).all()) and bool(((X @ w + b).abs() >= margin).all()) and len(set(y.tolist())) == 2:
            return X, y


def _cases_train(g, visible):
    out = []
    for i in range(1 if visible else 3):
        X, y = _separable(g, _int(g, 20, 40), _int(g, 2, 4))
        out.append(("main", f"separable data #{i + 1}", {"X": X, "y": y, "epochs": 1000, "mode": "separable"}))
    for i in range(1 if visible else 2):
        X, y = _needs_bias(g, _int(g, 20, 40), _int(g, 2, 4))
        out.append(("main", f"separable data that needs the bias #{i + 1}",
                    {"X": X, "y": y, "epochs": 1000, "mode": "separable"}))
    for i in range(1 if visible else 2):
        n, d = _int(g, 8, 15), _int(g, 2, 4)
        epochs = _int(g, 1, 3)
        out.append(("edge", f"{epochs} epoch(s) on random labels: the exact Rosenblatt updates #{i + 1}",
                    {"X": _randn(g, n, d), "y": sign(_randn(g, n)), "epochs": epochs, "mode": "exact"}))
    if not visible:
        X, y = _separable(g, 10, 2)
        out.append(("edge", "epochs = 0: w and b stay zero", {"X": X, "y": y, "epochs": 0, "mode": "exact"}))
    return out


def _cases_xor(g, visible):
    out = [("main", f"{n} XOR-style points #{i + 1}", {"x": xor_data(n, g)[0]})
           for i, n in enumerate((200,) if visible else (500, 500))]
    # The hardest points: exactly on the circles of radius XOR_RADIUS around the corners.
    a = _uniform(g, 0, 2 * math.pi, 400)
    corners = (torch.randint(0, 2, (400, 2), generator=g) * 2 - 1).double()
    ring = corners + XOR_RADIUS * torch.stack([torch.cos(a), torch.sin(a)], 1)
    out.append(("edge", f"points at distance exactly {XOR_RADIUS} from the corners", {"x": ring}))
    return out


def _cases_relu(g, visible):
    out = []
    for i in range(2 if visible else 3):
        k = _int(g, 3, 8)
        out.append(("main", f"{k} random knots #{i + 1}", {"knots_x": _knots(g, k), "knots_y": _randn(g, k)}))
    out.append(("edge", "two knots (a single segment)", {"knots_x": _knots(g, 2), "knots_y": _randn(g, 2)}))
    if not visible:
        out += [("edge", "unevenly spaced knots, negative and positive",
                 {"knots_x": torch.tensor([-5.0, -4.9, 0.0, 0.05, 3.0], dtype=torch.float64),
                  "knots_y": _randn(g, 5, scale=3.0)}),
                ("edge", "large values",
                 {"knots_x": _knots(g, 4, -100.0, 100.0, 5.0), "knots_y": _randn(g, 4, scale=1e3)})]
    return out


def _cases_step(g, visible):
    out = [("main", f"sum of sines, tol {tol}", _step_case(g, tol)) for tol in ((0.1,) if visible else (0.1, 0.05))]
    out.append(("edge", "tight tolerance 0.02", _step_case(g, 0.02)))
    if not visible:
        out.append(("edge", "tolerance larger than the whole variation", _step_case(g, 10.0)))
    return out


def _cases_collapse(g, visible):
    out = []
    for i in range(2 if visible else 3):
        depth = _int(g, 2, 5)
        ws = _mlp_weights(g, _sizes(g, depth))
        out.append(("main", f"{depth} random layers #{i + 1}", {"weights": ws[0::2], "biases": ws[1::2]}))
    ws = _mlp_weights(g, _sizes(g, 3))
    out.append(("edge", "a layer without bias (None)", {"weights": ws[0::2], "biases": [ws[1], None, ws[5]]}))
    if not visible:
        ws = _mlp_weights(g, _sizes(g, 1))
        out.append(("edge", "a single layer", {"weights": ws[0::2], "biases": ws[1::2]}))
        ws = _mlp_weights(g, _sizes(g, 2))
        out.append(("edge", "first layer without bias (None)", {"weights": ws[0::2], "biases": [None, ws[3]]}))
    return out


def _cases_mlp(g, visible):
    out = [("main", "2 layers, relu", _mlp_case(g, 2, "relu")), ("main", "3 layers, sigmoid", _mlp_case(g, 3, "sigmoid"))]
    if not visible:
        out += [("main", "3 layers, relu", _mlp_case(g, 3, "relu")), ("main", "4 layers, relu", _mlp_case(g, 4, "relu")),
                ("main", "2 layers, sigmoid", _mlp_case(g, 2, "sigmoid")),
                ("edge", "one layer (no hidden layer, no activation)", _mlp_case(g, 1, "relu")),
                ("edge", "batch size 1", _mlp_case(g, 2, "sigmoid", batch=1))]
    out.append(("edge", f"trains on spiral to >= {SPIRAL_BAR:.0%} test accuracy", _spiral_case(g)))
    return out


def _cases_sgd(g, visible):
    out = []
    for i in range(2 if visible else 3):
        shapes = [tuple(_sizes(g, _int(g, 0, 2))) for _ in range(_int(g, 2, 5))]
        out.append(("main", f"random parameters #{i + 1}",
                    {"params": [_randn(g, *s) for s in shapes], "grads": [_randn(g, *s) for s in shapes],
                     "lr": float(_uniform(g, 0.01, 1.0, 1))}))
    shapes = [(3, 4), (3,), (2, 3), (2,)]
    grads = [_randn(g, *s) for s in shapes]
    grads[1] = None
    out.append(("edge", "a parameter whose grad is None (skipped)",
                {"params": [_randn(g, *s) for s in shapes], "grads": grads, "lr": 0.5}))
    return out


def _cases_epoch(g, visible):
    out = [("main", "3 batches, cross-entropy", _epoch_case(g, 3, "cross_entropy", "relu")),
           ("edge", "a single batch", _epoch_case(g, 1, "cross_entropy", "relu"))]
    if not visible:
        out += [("main", "4 batches, cross-entropy, sigmoid", _epoch_case(g, 4, "cross_entropy", "sigmoid")),
                ("edge", "2 batches, squared error", _epoch_case(g, 2, "mse", "relu"))]
    return out


BUILDERS = {"count_parameters": _cases_count, "perceptron_predict": _cases_predict,
            "perceptron_train": _cases_train, "xor_perceptrons": _cases_xor, "relu_interpolant": _cases_relu,
            "step_approximation": _cases_step, "collapse_linear": _cases_collapse, "MLP": _cases_mlp,
            "sgd_step": _cases_sgd, "train_epoch": _cases_epoch}


def precompute(cases: dict) -> None:
    """hw2's references are computed while scoring (they depend on what the submission returned)."""


def make_cases(assignment: Assignment, seed: int, visible_only: bool, devices: tuple[str, ...] = ("cpu",),
               public_seed: int = 0) -> dict[str, list[dict]]:
    """All cases per task: visible ones from the public seed, hidden ones from ``seed`` (CPU only)."""
    cases: dict[str, list[dict]] = {}
    for task in assignment.tasks:
        todo = []
        for visible, s in ((True, public_seed), (False, seed)):
            if visible_only and not visible:
                continue
            g = torch.Generator().manual_seed(s * 1013 + task.number)
            tag = "visible" if visible else "hidden"
            for kind, label, fields in BUILDERS[task.name](g, visible):
                todo.append({"task": task.name, "kind": kind, "label": f"{tag} {label}", "visible": visible,
                             **fields})
        cases[task.name] = todo
    return cases


# ----------------------------------------------------------------------------------------------
# Checking one case: returns (problems, contract problems) as bare sentences; scoring puts
# "task [case label]: " in front of each, so every line names the function and the case.


Check = tuple[list[str], list[str]]
HIDDEN = "hidden case: values not shown"


def _likely(text: str) -> str:
    return f" — likely mistake: {text}" if text else ""


def _pm(v: float) -> str:
    """A label as the lecture writes it: +1 / -1 (anything else as a number)."""
    return "+1" if v == 1 else "-1" if v == -1 else f"{v:g}"


def _close(a: torch.Tensor | None, b: torch.Tensor | None, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return (a is not None and b is not None and tuple(a.shape) == tuple(b.shape)
            and torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol))


def _same(before, after) -> bool:
    """Equal values: tensors compared with torch.equal, never with ``==`` (ambiguous for tensors)."""
    if isinstance(before, torch.Tensor) or isinstance(after, torch.Tensor):
        return (isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor)
                and before.shape == after.shape and torch.equal(before, after.to(before.dtype)))
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        return len(before) == len(after) and all(_same(x, y) for x, y in zip(before, after))
    return type(before) is type(after) and before == after


def _inputs_changed(case: dict, r: dict, names: list[str], keys: list[str]) -> list[str]:
    after = r.get("inputs_after") or []
    out = []
    for name, key, a in zip(names, keys, after):
        before = case[key]
        if isinstance(before, torch.Tensor) and isinstance(a, torch.Tensor) and not _same(before, a):
            out.append(f"modified its input `{name}` in place; compute new tensors instead")
        if isinstance(before, list) and isinstance(a, list) and not _same(before, a):
            out.append(f"modified its input `{name}` (the list or its tensors) — do not change the inputs; "
                       "build new tensors (W = W_d @ W, not W_d @= ... or W.copy_(...))")
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
    contract += _inputs_changed(case, r, ["layer_sizes"], ["sizes"])
    sizes, want = case["sizes"], ref_count(case["sizes"])
    got, why = _scalar(r["value"], "the result")
    if got is None:
        return [why], contract
    if got == want:
        return [], contract
    shown = f"expected {want}, got {got:g}" if case["visible"] else f"returned a wrong count ({HIDDEN})"
    return [f"count_parameters({sizes}) {shown}" + _likely(_count_hint(sizes, got, case["visible"]))], contract


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
    t, why = _tensor(r["value"], "the result")
    contract = _inputs_changed(case, r, ["X", "w"], ["X", "w"])
    if t is None:
        return [why], contract + [why]
    n = case["X"].shape[0]
    if tuple(t.shape) != (n,):
        contract.append(f"returned shape {_shape(t)}, expected ({n},): one label per row of X")
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
        line = f"prediction[{i}] expected {_pm(float(want[i]))}, got {_pm(float(got[i]))}{zs} ({count})"
    else:
        what = "has the wrong sign" if float(got[i]) in (1.0, -1.0) else "is neither +1 nor -1"
        line = f"prediction[{i}] {what}{where} ({count}; {HIDDEN})"
    return [line + _likely(_predict_hint(got, want, z, i, X, w, b))], contract


def _wb(value, d: int) -> tuple[torch.Tensor | None, float | None, list[str]]:
    pair, why = _tuple(value, 2, "perceptron_train", "(w, b)")
    if pair is None:
        return None, None, [why]
    w, why_w = _tensor(pair[0], "w")
    b, why_b = _scalar(pair[1], "b")
    problems = [p for p in (why_w, why_b) if p]
    if w is not None and tuple(w.shape) != (d,):
        problems.append(f"w has shape {_shape(w)}, expected ({d},)")
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
        if _close(got, torch.cat([w, b.reshape(1)])):
            return text
    return ("follow the pinned rule exactly: start at w = 0, b = 0, visit the rows in order, on a mistake "
            "(y·(w·x + b) <= 0) set w ← w + y·x and b ← b + y, stop after `epochs` epochs or a clean one")


def check_train(case: dict, r: dict) -> Check:
    d = case["X"].shape[1]
    w, b, problems = _wb(r["value"], d)
    contract = list(problems) + _inputs_changed(case, r, ["X", "y"], ["X", "y"])
    if w is None or b is None:
        return problems, contract
    got = torch.cat([w, torch.tensor([b], dtype=torch.float64)])
    if case["mode"] == "separable":
        wrong = (sign(case["X"].double() @ w + b) != case["y"].double()).nonzero().reshape(-1)
        if wrong.numel() == 0:
            return [], contract
        return [f"{wrong.numel()} of {len(case['y'])} training points (first: row {int(wrong[0])}) are "
                f"misclassified after at most {case['epochs']} epochs; on separable data the rule reaches "
                "none" + _likely(_train_hint(case, got))], contract
    want_w, want_b = ref_perceptron(case["X"], case["y"], case["epochs"])
    want = torch.cat([want_w, want_b.reshape(1)])
    bad = (~torch.isclose(got, want, rtol=RTOL, atol=ATOL)).nonzero().reshape(-1)
    if bad.numel() == 0:
        return [], contract
    i = int(bad[0])
    name = f"w[{i}]" if i < d else "b"
    shown = (f"expected {float(want[i]):.6g}, got {float(got[i]):.6g}" if case["visible"]
             else f"is wrong ({HIDDEN})")
    return [f"after {case['epochs']} epoch(s) {name} {shown}" + _likely(_train_hint(case, got))], contract


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
            t, why = _tensor(value[k], k)
            if t is not None and t.numel() != 2:
                why = f"{k} has shape {_shape(t)}, expected (2,)"
            params[k] = t.reshape(2) if not why else None
        else:
            params[k], why = _scalar(value[k], k)
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
                 f"{_pm(float(labels[i]))}, got {_pm(float(pred[i]))}")
    if bool(wrong.all()):
        hint = "the output is inverted: flip the signs of w_C and b_C"
    elif whole:
        hint = (f"every point near {', '.join(whole)} is on the wrong side: check the hidden outputs (h_A, h_B) "
                "there and how w_C, b_C combine them (+1 near (1, 1) and (-1, -1), -1 near (1, -1) and (-1, 1))")
    else:
        hint = (f"a hidden unit's line cuts through the points within {XOR_RADIUS} of a corner; keep each line "
                "clear of those discs so that every point near a corner gets that corner's label")
    return [line + _likely(hint)], []


def _network(value, task: str) -> tuple[list[torch.Tensor] | None, list[str]]:
    items, why = _tuple(value, 4, task, "(w1, b1, w2, b2)")
    if items is None:
        return None, [why]
    out, problems = [], []
    for name, v in zip(("w1", "b1", "w2"), items[:3]):
        t, why = _tensor(v, name)
        if t is None:
            problems.append(why)
            continue
        if t.dim() != 1:
            problems.append(f"{name} has shape {_shape(t)}, expected (H,)")
        out.append(t.reshape(-1))
    b2, why = _scalar(items[3], "b2")
    if why:
        problems.append(why)
    if not problems and len({t.numel() for t in out}) != 1:
        problems.append(f"w1, b1, w2 have lengths {', '.join(str(t.numel()) for t in out)}; "
                        "they must all have length H")
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
    contract = problems + _inputs_changed(case, r, ["knots_x", "knots_y"], ["knots_x", "knots_y"])
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
        return [line + _likely(_knot_hint(diff, bad, k))], contract
    mids = torch.cat([(kx[1:] + kx[:-1]) / 2, kx[0] + (kx[-1] - kx[0]) * torch.linspace(0, 1, 401, dtype=torch.float64)])
    want, fm = _interp(kx, ky, mids), f(mids)
    bad = ~torch.isclose(fm, want, rtol=1e-6, atol=atol)
    if bool(bad.any()):
        i = int(((fm - want).abs() * bad).argmax())
        seg = int(torch.searchsorted(kx, mids[i:i + 1], right=True).clamp(1, len(kx) - 1)) - 1
        shown = (f" at x = {float(mids[i]):.6g}: expected {float(want[i]):.6g}, got {float(fm[i]):.6g}"
                 if case["visible"] else f" ({HIDDEN})")
        return [f"the network hits the knots but is not linear between knot {seg} and knot {seg + 1}{shown}"
                + _likely("a unit bends where w1·x + b1 = 0; each bend must sit exactly on a knot "
                          "(b1_k = -w1_k·x_k), with no unit bending between knots")], contract
    return [], contract


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
                + _likely("steps narrower than needed; width tol / L is enough")], contract
    g = torch.Generator().manual_seed(int(1e6 * (hi - lo)) % (2**31))
    x = torch.cat([torch.linspace(lo, hi, 6001, dtype=torch.float64), _uniform(g, lo, hi, 2000)])
    coef = case["coef"].double()
    target = case["c0"] + (coef[:, 0] * torch.sin(coef[:, 1] * x[:, None] + coef[:, 2])).sum(-1)
    approx = _evaluate(net, x, lambda z: (z >= 0).to(torch.float64))
    err = (approx - target).abs()
    bad = err > tol * (1 + 1e-9) + 1e-12
    if not bool(bad.any()):
        return [], contract
    worst = int(err.argmax())
    frac = float(bad[:6001].double().mean())  # the even grid: share of [lo, hi]
    wx = float(x[worst])
    where = (f" at x = {wx:.6g} (first above tol at x = {float(x[:6001][bad[:6001]].min()):.6g})"
             if case["visible"] and bool(bad[:6001].any()) else f" at x = {wx:.6g}" if case["visible"] else "")
    return [f"max |f̂(x) - f(x)| = {float(err[worst]):.3g}{where}, above tol = {tol:g}; the error exceeds tol on "
            f"{frac:.0%} of [lo, hi]" + _likely(_step_hint(wx, frac, lo, hi, tol / lip))], contract


ORDER = "W = W_L ⋯ W_2 W_1, applied right to left"


def _collapse_W_hint(weights: list, got: torch.Tensor, want: torch.Tensor) -> str:
    if tuple(got.shape) == tuple(want.shape[::-1]) and len(set(want.shape)) > 1:
        return f"W maps n_0 inputs to n_L outputs, so its shape is (n_L, n_0) = {_shape(want)}; {ORDER}"
    try:
        rev = weights[0].double()
        for W_d in weights[1:]:
            rev = rev @ W_d.double()
        if _close(got, rev):
            return f"the product order: {ORDER} (the first layer acts first, so it is rightmost)"
    except RuntimeError:
        pass
    if _close(got, weights[-1].double()) or _close(got, weights[0].double()):
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
    if biases[-1] is not None and _close(got, biases[-1].double()):
        return "only the last bias; the earlier biases pass through the later layers: b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L"
    for d, t in terms:
        if len(terms) > 1 and _close(got, total - t):
            return (f"the bias of layer {d + 1} is missing (a None bias counts as zero; every other bias still "
                    "passes through the layers after it)")
    return "missing bias propagation — every bias passes through the layers after it: b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L"


def check_collapse(case: dict, r: dict) -> Check:
    pair, why = _tuple(r["value"], 2, "collapse_linear", "(W, b)")
    contract = _inputs_changed(case, r, ["weights", "biases"], ["weights", "biases"])
    if pair is None:
        return [why], contract + [why]
    W, why_w = _tensor(pair[0], "W")
    b, why_b = _tensor(pair[1], "b")
    if W is None or b is None:
        whys = [w for w in (why_w, why_b) if w]
        return whys, contract + whys
    want_W, want_b = ref_collapse(case["weights"], case["biases"])
    line = _mismatch("W", W, want_W, case)
    if line:
        return [line + _likely(_collapse_W_hint(case["weights"], W, want_W))], contract
    line = _mismatch("b", b, want_b, case)
    if line:
        return [line + _likely(_collapse_b_hint(case["weights"], case["biases"], b))], contract
    return [], contract


def _mlp_contract(case: dict, r: dict) -> list[str]:
    sizes = case["sizes"]
    want = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((b, a), (b,))]
    if not r.get("loaded"):
        shapes = ", ".join("(" + ", ".join(map(str, s)) + (",)" if len(s) == 1 else ")") for s in r.get("shapes", []))
        return [f"MLP({sizes}).parameters() yields [{shapes}]; expected weight_1 (n_1, n_0), bias_1 (n_1,), "
                f"weight_2, bias_2, ... in that order ({len(want)} tensors) — register them as torch.nn.Parameter"]
    out = []
    layers = len(sizes) - 1
    calls = r.get("calls")
    if calls is not None and calls.get("Linear", 0) != layers:
        out.append(f"forward called functions.Linear.apply {calls.get('Linear', 0)} times for {layers} layers; "
                   "build every layer from the supplied functions (functions.Linear.apply(x, W, b))")
    other = "Sigmoid" if case["activation"] == "relu" else "ReLU"
    if calls is not None and calls.get(other, 0):
        out.append(f"MLP(activation={case['activation']!r}) called functions.{other}.apply")
    if calls is not None and layers > 1 and not calls.get("ReLU" if other == "Sigmoid" else "Sigmoid", 0):
        out.append("forward never called the activation through the supplied functions "
                   "(functions.ReLU.apply / functions.Sigmoid.apply)")
    if any(m in ("Linear", "ReLU", "Sigmoid", "Sequential") for m in r.get("submodules", [])):
        out.append(f"the model holds torch.nn layers ({', '.join(r['submodules'])}); use parameters and the "
                   "supplied functions instead")
    return out


MLP_VARIANTS = (
    ("act_out", "the activation was applied to the output layer too; the last layer must stay linear "
                "(its outputs are logits)"),
    ("no_last_bias", "the last layer's bias is missing"),
    ("no_bias", "the biases are missing: every layer computes x W_dᵀ + b_d"),
    ("no_act", "no activation between the layers; apply it after every layer except the last"),
    ("other_act", "the wrong activation: use the one named by `activation`"),
)


def _mlp_hint(case: dict, out: torch.Tensor) -> str:
    ws = [w.double() for w in case["weights"]]
    x = case["x"].double()
    for variant, text in MLP_VARIANTS:
        if _close(out, mlp_forward(ws, x, case["activation"], variant)):
            return text
    return "each layer is x ← Linear(x, weight_d, bias_d), then the activation on every layer except the last"


def _check_spiral(case: dict, r: dict) -> list[str]:
    weights = r.get("weights") or []
    if len(weights) != len(case["weights"]) or not all(isinstance(w, torch.Tensor) for w in weights):
        return ["the trained weights did not come back"]
    x_test, y_test = spiral(SPIRAL["n_test"], torch.Generator().manual_seed(int(case["test_seed"])))
    with torch.no_grad():
        logits = mlp_forward([w.double() for w in weights], x_test.double(), case["activation"])
    acc = float((logits.argmax(1) == y_test).double().mean()) if bool(torch.isfinite(logits).all()) else 0.0
    if acc >= SPIRAL_BAR:
        return []
    return [f"after {case['epochs']} epochs of SGD the test accuracy is {acc:.1%}, below {SPIRAL_BAR:.0%}"
            + _likely("the network does not learn; check forward and that every weight gets a gradient")]


def _ignores_functions(contract: list[str]) -> list[str]:
    """Contract lines saying forward did not go through the supplied Functions: the point of the task."""
    return [line for line in contract if "supplied functions" in line and "torch.nn layers" not in line]


def check_mlp(case: dict, r: dict) -> Check:
    contract = _mlp_contract(case, r)
    if not r.get("loaded"):
        return contract[:1], contract
    ignored = _ignores_functions(contract)
    if ignored:  # correct numbers from torch.relu / nn.Linear are not an MLP built from the Functions
        return [ignored[0] + " — building the MLP from the given Functions is what this task grades"], contract
    if case["mode"] == "spiral":
        return _check_spiral(case, r), contract
    out = r.get("out")
    if not isinstance(out, torch.Tensor):
        return [f"forward returned {r.get('out_type')}, expected a tensor"], contract
    want_out, want_grads, want_x = _mlp_expected(case)
    line = _mismatch("forward output", out, want_out, case)
    if line:
        return [line + _likely(_mlp_hint(case, out))], contract
    if r.get("no_graph"):
        return ["the output has no autograd graph (requires_grad is False)"
                + _likely("a detach() or torch.no_grad() in forward")], contract
    names = [f"{k}_{d}" for d in range(1, len(case["sizes"])) for k in ("weight", "bias")]
    grads = r.get("grads") or []
    graph = ("the output is right but its graph is not: keep every step inside autograd (no .data, .detach(), "
             "new tensors from .item(), or in-place edits of intermediate results)")
    for name, got, want in zip(names, grads, want_grads):
        if got is None:
            return [f"{name} got no gradient from backward" + _likely(graph)], contract
        line = _mismatch(f"d loss / d {name}", got, want, case)
        if line:
            return [line + _likely(graph)], contract
    x_grad = r.get("x_grad")
    if x_grad is None or _mismatch("d loss / d x", x_grad, want_x, case):
        return ["the gradient with respect to the input x is wrong or missing" + _likely(graph)], contract
    return [], contract


def _sgd_hint(p0: torch.Tensor, g: torch.Tensor | None, p1: torch.Tensor, lr: float) -> str:
    if g is None:
        return "this parameter's .grad is None: skip it and leave it unchanged"
    if tuple(p1.shape) != tuple(p0.shape):
        return "the parameter's shape changed; update it in place"
    if _close(p1, p0 + lr * g):
        return "the sign: gradient descent moves against the gradient, p ← p - lr · p.grad"
    if torch.equal(p1.double(), p0.double()):
        return ("the parameter did not change: update the tensor itself in place under torch.no_grad() "
                "(p -= lr * p.grad); p = p - ... only rebinds a local name")
    if _close(p1, p0 - g):
        return "the learning rate is missing: p ← p - lr · p.grad"
    return "p ← p - lr · p.grad for every parameter whose .grad is not None"


def check_sgd(case: dict, r: dict) -> Check:
    contract = []
    if r.get("value_type") != "NoneType":
        contract.append(f"returned a {r.get('value_type')}; it updates in place and returns None")
    if not all(r.get("requires_grad", [])) or not all(r.get("is_leaf", [])):
        contract.append("after the step a parameter is no longer a leaf that requires grad — update in place "
                        "under torch.no_grad() (p -= lr * p.grad), do not rebind or detach")
    lr = case["lr"]
    for i, (p0, g, p1, g1) in enumerate(zip(case["params"], case["grads"], r["params"], r["grads"])):
        want = p0 if g is None else p0 - lr * g
        line = _mismatch(f"params[{i}]", p1, want, case)
        if line:
            return [line + _likely(_sgd_hint(p0, g, p1, lr))], contract
        if g1 is not None and bool((g1 != 0).any()):
            return [f"params[{i}].grad is still set after the step"
                    + _likely("the gradients were not cleared; set p.grad = None (or zero it) so the next "
                              "backward does not add to the old gradient")], contract
    return [], contract


def _epoch_loss_hint(losses: list[float], sizes: list[int], value: float) -> str:
    def near(v: float) -> bool:
        return math.isclose(value, v, rel_tol=1e-6, abs_tol=1e-9)

    if near(losses[-1]):
        return "returned the last batch's loss instead of the mean over all batches"
    if near(sum(losses)):
        return "returned the sum of the batch losses; divide by the number of batches"
    if near(losses[0]):
        return "returned the first batch's loss instead of the mean over all batches"
    if near(sum(v * n for v, n in zip(losses, sizes)) / sum(sizes)):
        return "a mean weighted by batch size; return the plain mean of the batch losses"
    return "return the mean of the batch losses, each computed before its update (loss.item())"


def check_epoch(case: dict, r: dict) -> Check:
    contract = []
    if r.get("value_type") != "float":
        contract.append(f"returned a {r.get('value_type')}; expected a Python float (use loss.item())")
    n = len(case["batches"])
    if r.get("loss_calls") != n:
        contract.append(f"called loss_fn {r.get('loss_calls')} times for {n} batches; expected once per batch")
    losses, want_params = ref_epoch_losses(case)
    want_loss = sum(losses) / len(losses)
    problems = []
    names = [f"{k}_{d}" for d in range(1, len(want_params) // 2 + 1) for k in ("weight", "bias")]
    for name, got, want, before in zip(names, r.get("params") or [], want_params, case["weights"]):
        line = _mismatch(f"{name} after the epoch", got, want, case)
        if line:
            hint = ("the parameters never changed: after each batch's backward call sgd_step(model.parameters(), lr)"
                    if torch.equal(got.double(), before.double()) else
                    "one sgd_step(model.parameters(), lr) after each batch's backward, every batch once, in order")
            problems.append(line + _likely(hint))
            break
    value = r.get("value")
    if value is None:
        problems.append(f"returned {r.get('value_type')}, expected the mean batch loss (a float)")
    elif not math.isclose(value, want_loss, rel_tol=1e-6, abs_tol=1e-9):
        shown = f"expected {want_loss:.6g}, got {value:.6g}" if case["visible"] else f"is wrong ({HIDDEN})"
        sizes = [int(x.shape[0]) for x, _ in case["batches"]]
        problems.append(f"the returned loss {shown}" + _likely(_epoch_loss_hint(losses, sizes, value)))
    return problems, contract


CHECKS: dict[str, Callable[[dict, dict], Check]] = {
    "count_parameters": check_count, "perceptron_predict": check_predict, "perceptron_train": check_train,
    "xor_perceptrons": check_xor, "relu_interpolant": check_relu, "step_approximation": check_step,
    "collapse_linear": check_collapse, "MLP": check_mlp, "sgd_step": check_sgd, "train_epoch": check_epoch,
}


# Hints for exceptions: (task, text in the error message, likely mistake)
ERROR_HINTS = (
    ("collapse_linear", "cannot be multiplied", f"the product order: {ORDER}; the shapes chain only in that order"),
    ("collapse_linear", "size mismatch", f"the product order: {ORDER}; the shapes chain only in that order"),
    ("collapse_linear", "NoneType", "a bias can be None: treat it as zero"),
    ("MLP", "cannot be multiplied", "weight_d has shape (n_d, n_(d-1)) and Linear computes x Wᵀ + b"),
    ("sgd_step", "NoneType", "a parameter's .grad can be None: skip it"),
    ("sgd_step", "leaf Variable that requires grad", "update under torch.no_grad() so autograd does not record it"),
    ("perceptron_predict", "NoneType", "b can be a float or a 0-dim tensor; w·x + b works for both"),
)


# ----------------------------------------------------------------------------------------------
# Scoring


def _dedupe(lines: list[str], limit: int = 6) -> list[str]:
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen[:limit]


def _error_text(task: str, message: str, case: dict | None = None, exc: str = "") -> str:
    """One line for an exception: "not implemented: ..." for a stub; on a hidden case only the
    exception's type and the case's description (the message can contain hidden inputs)."""
    if exc == "NotImplementedError" or (not exc and "NotImplementedError" in message):
        text = message.split("NotImplementedError:", 1)[-1].split(" (line ", 1)[0].strip()
        if case is not None and not case.get("visible"):
            text = ""
        return "not implemented: " + (text or f"{task} raised NotImplementedError")
    hint = next((h for t, s, h in ERROR_HINTS if t == task and s in message), "")
    if case is None:
        return f"raised {message}" + _likely(hint)
    return case_error(task, case, message, exc) + _likely(hint)


def _head(task: Task, case: dict, line: str) -> str:
    """``task [case label]: line`` — every student-facing line names the function and the case."""
    if line.startswith("not implemented: ") or line.startswith(f"{task.name} ["):
        return line
    return f"{task.name} [{case['label']}]: {line}"


def _scrub(value):
    """A hidden case's returned value with every string replaced: a returned string (or text the
    probe made from an object) is shown in feedback, and could carry the hidden inputs."""
    if isinstance(value, str):
        return "<not a tensor>"
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v) for v in value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def _run_check(task: Task, case: dict, r: dict) -> Check:
    if not isinstance(r, dict):
        return ["no usable result came back for this case"], []
    if not case.get("visible") and "value" in r:
        r = {**r, "value": _scrub(r["value"])}
    if r.get("error"):
        if "exc_type" in r or r.get("stage") == "probe":  # raised by the submission's code
            return [_error_text(task.name, str(r["error"]), case, str(r.get("exc_type", "")))], []
        return [str(r["error"])], []  # the grader's own reason (a missing or malformed result)
    try:
        return CHECKS[task.name](case, r)
    except Exception as exc:  # a malformed return value must cost the case, never crash grading
        return [f"the grader could not read the result ({type(exc).__name__})"], []


def _not_implemented(task: Task, cases: list[dict], results: list) -> str | None:
    """The first "not implemented" line, its text taken from a visible case only."""
    pairs = sorted(zip(cases, results), key=lambda cr: not cr[0].get("visible"))
    for case, r in pairs:
        if isinstance(r, dict) and r.get("error") and (r.get("exc_type") == "NotImplementedError" or
                                                         (not r.get("exc_type") and "NotImplementedError" in r["error"])):
            return _error_text(task.name, str(r["error"]), case, str(r.get("exc_type", "")))
    return None


def score_task(assignment: Assignment, task: Task, cases: list[dict], results: list[dict] | None,
               failure: str | None) -> list[Outcome]:
    """One Outcome per category: main cases, edge cases, contract (visible and hidden cases alike)."""
    keys = [c.key for c in assignment.categories]
    early = unrunnable(assignment, task, results, failure, "class" if task.name == "MLP" else "function")
    if early is not None:
        return early
    results = [r if isinstance(r, dict) else {"error": "a malformed result came back for this case"} for r in results]
    results += [{"error": "no result came back for this case"}] * (len(cases) - len(results))
    if any(isinstance(r, dict) and r.get("tampered") for r in results):
        why = (f"{task.name}: your file replaced code the grader or torch relies on — a submission may only "
               "define its functions and classes")
        return [Outcome(task.name, k, 0.0, [why]) for k in keys]
    nie = _not_implemented(task, cases, results)
    checked = [(c, _run_check(task, c, r)) for c, r in zip(cases, results)]
    scores: dict[str, tuple[float, list[str]]] = {}
    for key in ("main", "edge"):
        part = [(c, p) for c, (p, _) in checked if c["kind"] == key]
        if not part:
            scores[key] = (0.0, ["no cases ran"])
            continue
        passed = sum(not p for _, p in part)
        scores[key] = (passed / len(part), _dedupe([_head(task, c, line) for c, p in part for line in p]))
    ran = [c for (c, (p, _)), r in zip(checked, results) if not r.get("error")]
    contract, seen = [], set()
    for c, (_, k) in checked:  # one line per contract problem, named after the first case that shows it
        for line in k:
            if line not in seen:
                seen.add(line)
                contract.append(_head(task, c, line))
    contract = contract[:6]
    if not ran:
        contract = contract or [next((_head(task, c, p[0]) for c, (p, _) in checked if p),
                                     "no case ran without an error")]
    scores["compliance"] = (0.0 if contract else 1.0, contract)
    outcomes = []
    for k in keys:
        frac, lines = scores[k]
        if nie:
            lines = [nie] + [ln for ln in lines if "not implemented" not in ln]
        outcomes.append(Outcome(task.name, k, frac, lines))
    return outcomes
