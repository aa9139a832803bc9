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

from course_nn.grading.outcome import Outcome, all_failed
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
    return f"{where}: relative error {rel:.1e} (hidden case: values not shown)"


def _error_text(task: str, message: str) -> str:
    if "NotImplementedError" in message:
        text = message.split("NotImplementedError:", 1)[-1].split(" (line ", 1)[0].strip()
        return "not implemented: " + (text or f"{task} raised NotImplementedError")
    return f"{task} raised {message}"


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


def ref_perceptron(X: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rosenblatt's rule as pinned in the handout (zero start, rows in order, mistake if <= 0)."""
    w, b = torch.zeros(X.shape[1], dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    X, y = X.double(), y.double()
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w + b) <= 0:
                w, b, updated = w + y_i * x_i, b + y_i, True
        if not updated:
            break
    return w, b


def ref_collapse(weights: list, biases: list) -> tuple[torch.Tensor, torch.Tensor]:
    W = weights[0].double()
    b = biases[0].double() if biases[0] is not None else torch.zeros(W.shape[0], dtype=torch.float64)
    for W_d, b_d in zip(weights[1:], biases[1:]):
        W, b = W_d.double() @ W, W_d.double() @ b + (b_d.double() if b_d is not None else 0)
    return W, b


def mlp_forward(weights: list, x: torch.Tensor, activation: str) -> torch.Tensor:
    act = torch.relu if activation == "relu" else torch.sigmoid
    n = len(weights) // 2
    for d in range(n):
        x = F.linear(x, weights[2 * d], weights[2 * d + 1])
        if d < n - 1:
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


def ref_train_epoch(case: dict) -> tuple[float, list[torch.Tensor]]:
    ws = [w.detach().double().clone().requires_grad_(True) for w in case["weights"]]
    losses = []
    for x, y in case["batches"]:
        y = y.double() if y.is_floating_point() else y
        loss = _loss(case["loss"])(mlp_forward(ws, x.double(), case["activation"]), y)
        grads = torch.autograd.grad(loss, ws)
        with torch.no_grad():
            ws = [(w - case["lr"] * g).requires_grad_(True) for w, g in zip(ws, grads)]
        losses.append(float(loss.detach()))
    return sum(losses) / len(losses), [w.detach() for w in ws]


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


def _cases_train(g, visible):
    out = []
    for i in range(1 if visible else 3):
        X, y = _separable(g, _int(g, 20, 40), _int(g, 2, 4))
        out.append(("main", f"separable data #{i + 1}", {"X": X, "y": y, "epochs": 500, "mode": "separable"}))
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
# Checking one case: returns (problems, contract problems)


Check = tuple[list[str], list[str]]


def _inputs_changed(case: dict, r: dict, names: list[str], keys: list[str]) -> list[str]:
    after = r.get("inputs_after") or []
    out = []
    for name, key, a in zip(names, keys, after):
        before = case[key]
        if isinstance(before, torch.Tensor) and isinstance(a, torch.Tensor) and not torch.equal(before, a):
            out.append(f"modified its input `{name}` in place; compute new tensors instead")
        if isinstance(before, list) and isinstance(a, list):
            same = len(before) == len(a) and all(
                (x is None and y is None) or (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
                                              and torch.equal(x, y)) or x == y
                for x, y in zip(before, a))
            if not same:
                out.append(f"modified its input `{name}` (the list or its tensors); do not change the inputs")
    return out


def check_count(case: dict, r: dict) -> Check:
    value = r["value"]
    contract = [] if r.get("value_type") == "int" else [f"count_parameters returned a {r.get('value_type')}, "
                                                        "expected a Python int"]
    contract += _inputs_changed(case, r, ["layer_sizes"], ["sizes"])
    want = ref_count(case["sizes"])
    got, why = _scalar(value, "the result")
    if got is None:
        return [why], contract
    if got == want:
        return [], contract
    line = f"count_parameters({case['sizes']})" + (f": expected {want}, got {got:g}" if case["visible"] else " is wrong")
    sizes = case["sizes"]
    if got == sum(a * b for a, b in zip(sizes[:-1], sizes[1:])):
        line += " — likely mistake: the biases are missing (each layer also has one bias per output unit)"
    elif got == sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes[:-1]):
        line += " — likely mistake: one bias per output unit, not per input"
    return [line], contract


def check_predict(case: dict, r: dict) -> Check:
    t, why = _tensor(r["value"], "the result")
    contract = _inputs_changed(case, r, ["X", "w"], ["X", "w"])
    if t is None:
        return [f"perceptron_predict returned {why}"], contract + [f"perceptron_predict returned {why}"]
    n = case["X"].shape[0]
    if tuple(t.shape) != (n,):
        contract.append(f"perceptron_predict returned shape {_shape(t)}, expected ({n},)")
    X, w = case["X"].double(), case["w"].double()
    z = X @ w + float(case["b"])
    want = sign(z)
    line = _mismatch("prediction", t.reshape(-1) if t.numel() == n else t, want, case)
    if line is None:
        return [], contract
    if t.numel() == n and bool(((t.reshape(-1) == 0) == (z == 0)).all()) and bool((z == 0).any()):
        line += " — likely mistake: sign(0) must be +1 (torch.sign(0) is 0); use torch.where(z >= 0, 1, -1)"
    return [line], contract


def _wb(value, d: int, task: str) -> tuple[torch.Tensor | None, float | None, list[str]]:
    pair, why = _tuple(value, 2, task, "(w, b)")
    if pair is None:
        return None, None, [why]
    w, why_w = _tensor(pair[0], "w")
    b, why_b = _scalar(pair[1], "b")
    problems = [p for p in (why_w, why_b) if p]
    if w is not None and tuple(w.shape) != (d,):
        problems.append(f"w has shape {_shape(w)}, expected ({d},)")
    return (w if not problems else None), b, problems


def check_train(case: dict, r: dict) -> Check:
    d = case["X"].shape[1]
    w, b, problems = _wb(r["value"], d, "perceptron_train")
    contract = list(problems) + _inputs_changed(case, r, ["X", "y"], ["X", "y"])
    if w is None or b is None:
        return problems, contract
    if case["mode"] == "separable":
        errors = int((sign(case["X"].double() @ w + b) != case["y"].double()).sum())
        if errors:
            hint = ""
            if float(w.abs().sum()) == 0 and b == 0:
                hint = (" — likely mistake: w and b never changed; from w = 0 every point has y·(wᵀx + b) = 0, "
                        "which counts as a mistake (the test is <= 0)")
            return [f"perceptron_train [{case['label']}]: {errors} of {len(case['y'])} training points "
                    f"misclassified after at most {case['epochs']} epochs; expected 0 (the data is separable)"
                    + hint], contract
        return [], contract
    want_w, want_b = ref_perceptron(case["X"], case["y"], case["epochs"])
    got = torch.cat([w, torch.tensor([b], dtype=torch.float64)])
    want = torch.cat([want_w, want_b.reshape(1)])
    line = _mismatch(f"perceptron_train [{case['label']}]: (w, b)", got, want, case)
    if line is None:
        return [], contract
    if float(got.abs().sum()) == 0 and float(want.abs().sum()) != 0:
        line += " — likely mistake: nothing was updated; a point with y·(wᵀx + b) = 0 counts as a mistake (<= 0)"
    else:
        line += (" — follow the pinned rule exactly: start at zero, visit rows in order, update when "
                 "y·(wᵀx + b) <= 0 with learning rate 1, run at most `epochs` epochs")
    return [line], contract


XOR_KEYS = ("w_A", "b_A", "w_B", "b_B", "w_C", "b_C")


def check_xor(case: dict, r: dict) -> Check:
    value = r["value"]
    if not isinstance(value, dict):
        why = f"xor_perceptrons returned {r.get('value_type')}, expected a dict with keys {', '.join(XOR_KEYS)}"
        return [why], [why]
    missing = [k for k in XOR_KEYS if k not in value]
    if missing:
        why = f"xor_perceptrons: the dict lacks {', '.join(missing)} (keys must be exactly {', '.join(XOR_KEYS)})"
        return [why], [why]
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
            problems.append(f"xor_perceptrons: {why}")
    if problems:
        return problems, problems
    x, labels = case["x"], torch.where(case["x"].prod(1) > 0, 1.0, -1.0).double()
    h_a = sign(x @ params["w_A"] + params["b_A"])
    h_b = sign(x @ params["w_B"] + params["b_B"])
    pred = sign(torch.stack([h_a, h_b], 1) @ params["w_C"] + params["b_C"])
    wrong = int((pred != labels).sum())
    if wrong:
        return [f"xor_perceptrons [{case['label']}]: {wrong} of {len(labels)} points misclassified; expected 0 "
                "(label +1 near (1, 1) and (-1, -1), -1 near (1, -1) and (-1, 1))"], []
    return [], []


def _network(value, task: str) -> tuple[list[torch.Tensor] | None, list[str]]:
    items, why = _tuple(value, 4, task, "(w1, b1, w2, b2)")
    if items is None:
        return None, [why]
    out, problems = [], []
    for name, v in zip(("w1", "b1", "w2"), items[:3]):
        t, why = _tensor(v, name)
        if t is None:
            problems.append(f"{task}: {why}")
            continue
        if t.dim() != 1:
            problems.append(f"{task}: {name} has shape {_shape(t)}, expected (H,)")
        out.append(t.reshape(-1))
    b2, why = _scalar(items[3], "b2")
    if why:
        problems.append(f"{task}: {why}")
    if not problems and len({t.numel() for t in out}) != 1:
        problems.append(f"{task}: w1, b1, w2 have lengths {', '.join(str(t.numel()) for t in out)}; "
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


def check_relu(case: dict, r: dict) -> Check:
    net, problems = _network(r["value"], "relu_interpolant")
    contract = problems + _inputs_changed(case, r, ["knots_x", "knots_y"], ["knots_x", "knots_y"])
    if net is None:
        return problems, contract
    kx, ky = case["knots_x"].double(), case["knots_y"].double()
    f = lambda x: _evaluate(net, x, torch.relu)  # noqa: E731
    scale = float(ky.abs().max()) + 1.0
    line = _mismatch("f(knots_x)", f(kx), ky, case, rtol=1e-6, atol=1e-7 * scale)
    if line:
        return [f"relu_interpolant [{case['label']}]: the network misses a knot: {line}"], contract
    mids = torch.cat([(kx[1:] + kx[:-1]) / 2, kx[0] + (kx[-1] - kx[0]) * torch.linspace(0, 1, 401, dtype=torch.float64)])
    line = _mismatch("f(x)", f(mids), _interp(kx, ky, mids), case, rtol=1e-6, atol=1e-7 * scale)
    if line:
        return [f"relu_interpolant [{case['label']}]: the network hits the knots but is not linear between "
                f"them: {line}"], contract
    return [], contract


def check_step(case: dict, r: dict) -> Check:
    net, problems = _network(r["value"], "step_approximation")
    contract = list(problems)
    if net is None:
        return problems, contract
    lo, hi, tol, lip = case["lo"], case["hi"], case["tol"], case["lipschitz"]
    cap = 2 * math.ceil(lip * (hi - lo) / tol) + 2
    if net[0].numel() > cap:
        return [f"step_approximation [{case['label']}]: {net[0].numel()} hidden units; at most {cap} allowed "
                "(2·ceil(L·(hi - lo)/tol) + 2)"], contract
    g = torch.Generator().manual_seed(int(1e6 * (hi - lo)) % (2**31))
    x = torch.cat([torch.linspace(lo, hi, 6001, dtype=torch.float64), _uniform(g, lo, hi, 2000)])
    coef = case["coef"].double()
    target = case["c0"] + (coef[:, 0] * torch.sin(coef[:, 1] * x[:, None] + coef[:, 2])).sum(-1)
    approx = _evaluate(net, x, lambda z: (z >= 0).to(torch.float64))
    err = (approx - target).abs()
    worst = int(err.argmax())
    if float(err[worst]) > tol * (1 + 1e-9) + 1e-12:
        where = f" at x = {float(x[worst]):.6g}" if case["visible"] else ""
        return [f"step_approximation [{case['label']}]: |f̂(x) - f(x)| reaches {float(err[worst]):.3g}{where}, "
                f"above tol = {tol:g} on [lo, hi] — make the steps narrower (width <= tol / L keeps "
                "f within tol on each step)"], contract
    return [], contract


def check_collapse(case: dict, r: dict) -> Check:
    pair, why = _tuple(r["value"], 2, "collapse_linear", "(W, b)")
    contract = _inputs_changed(case, r, ["weights", "biases"], ["weights", "biases"])
    if pair is None:
        return [why], contract + [why]
    W, why_w = _tensor(pair[0], "W")
    b, why_b = _tensor(pair[1], "b")
    if W is None or b is None:
        whys = [f"collapse_linear: {w}" for w in (why_w, why_b) if w]
        return whys, contract + whys
    want_W, want_b = ref_collapse(case["weights"], case["biases"])
    for name, got, want in (("W", W, want_W), ("b", b, want_b)):
        line = _mismatch(name, got, want, case)
        if line:
            hint = ""
            if name == "W" and tuple(got.shape) == tuple(want.shape[::-1]):
                hint = " — W maps n_0 inputs to n_L outputs: shape (n_L, n_0)"
            elif name == "W":
                hint = " — later layers multiply on the left: W = W_L ··· W_2 W_1"
            elif name == "b":
                hint = " — every bias passes through the layers after it: b = W_L(···(W_2 b_1 + b_2)···) + b_L"
            return [f"collapse_linear [{case['label']}]: {line}{hint}"], contract
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
        out.append(f"MLP.forward called functions.Linear.apply {calls.get('Linear', 0)} times for {layers} layers; "
                   "build every layer from the supplied functions (functions.Linear.apply(x, W, b))")
    other = "Sigmoid" if case["activation"] == "relu" else "ReLU"
    if calls is not None and calls.get(other, 0):
        out.append(f"MLP(activation={case['activation']!r}) called functions.{other}.apply")
    if calls is not None and layers > 1 and not calls.get("ReLU" if other == "Sigmoid" else "Sigmoid", 0):
        out.append("MLP.forward never called the activation through the supplied functions "
                   "(functions.ReLU.apply / functions.Sigmoid.apply)")
    if any(m in ("Linear", "ReLU", "Sigmoid", "Sequential") for m in r.get("submodules", [])):
        out.append(f"MLP holds torch.nn layers ({', '.join(r['submodules'])}); use parameters and the supplied "
                   "functions instead")
    return out


def _mlp_hint(case: dict, out: torch.Tensor) -> str:
    ws = [w.double() for w in case["weights"]]
    x = case["x"].double()
    act = torch.relu if case["activation"] == "relu" else torch.sigmoid
    guesses = [
        (act(mlp_forward(ws, x, case["activation"])), "the activation was applied to the output layer too; "
                                                      "the last layer must stay linear (its outputs are logits)"),
        (mlp_forward(ws, x, case["activation"]) - ws[-1], "the last layer's bias is missing"),
    ]
    for guess, text in guesses:
        if tuple(guess.shape) == tuple(out.shape) and torch.allclose(out.double(), guess, rtol=1e-6, atol=1e-9):
            return " — likely mistake: " + text
    return ""


def check_mlp(case: dict, r: dict) -> Check:
    contract = _mlp_contract(case, r)
    if not r.get("loaded"):
        return contract[:1], contract
    if case["mode"] == "spiral":
        weights = r.get("weights") or []
        if len(weights) != len(case["weights"]) or not all(isinstance(w, torch.Tensor) for w in weights):
            return ["MLP: the trained weights did not come back"], contract
        x_test, y_test = spiral(SPIRAL["n_test"], torch.Generator().manual_seed(int(case["test_seed"])))
        with torch.no_grad():
            logits = mlp_forward([w.double() for w in weights], x_test.double(), case["activation"])
        acc = float((logits.argmax(1) == y_test).double().mean()) if bool(torch.isfinite(logits).all()) else 0.0
        if acc < SPIRAL_BAR:
            return [f"MLP [{case['label']}]: after {case['epochs']} epochs of SGD the test accuracy is {acc:.1%}, "
                    f"below {SPIRAL_BAR:.0%} — the network does not learn; check forward and that every "
                    "weight gets a gradient"], contract
        return [], contract
    out = r.get("out")
    if not isinstance(out, torch.Tensor):
        return [f"MLP.forward returned {r.get('out_type')}, expected a tensor"], contract
    want_out, want_grads, want_x = _mlp_expected(case)
    line = _mismatch("output", out, want_out, case)
    if line:
        return [f"MLP.forward [{case['label']}]: {line}{_mlp_hint(case, out) if tuple(out.shape) == tuple(want_out.shape) else ''}"], contract
    if r.get("no_graph"):
        return [f"MLP.forward [{case['label']}]: the output has no autograd graph (requires_grad is False); "
                "do not detach or use torch.no_grad in forward"], contract
    names = [f"{k}_{d}" for d in range(1, len(case["sizes"])) for k in ("weight", "bias")]
    grads = r.get("grads") or []
    for name, got, want in zip(names, grads, want_grads):
        if got is None:
            return [f"MLP [{case['label']}]: {name} got no gradient from backward"], contract
        line = _mismatch(f"d loss / d {name}", got, want, case)
        if line:
            return [f"MLP [{case['label']}]: {line}"], contract
    x_grad = r.get("x_grad")
    if x_grad is None or _mismatch("d loss / d x", x_grad, want_x, case):
        return [f"MLP [{case['label']}]: the gradient with respect to the input x is wrong or missing"], contract
    return [], contract


def check_sgd(case: dict, r: dict) -> Check:
    contract = []
    if r.get("value_type") != "NoneType":
        contract.append(f"sgd_step returned a {r.get('value_type')}; it updates in place and returns None")
    if not all(r.get("requires_grad", [])) or not all(r.get("is_leaf", [])):
        contract.append("after sgd_step a parameter is no longer a leaf that requires grad — update in place "
                        "under torch.no_grad() (p -= lr * p.grad), do not rebind or detach")
    lr = case["lr"]
    for i, (p0, g, p1, g1) in enumerate(zip(case["params"], case["grads"], r["params"], r["grads"])):
        want = p0 if g is None else p0 - lr * g
        line = _mismatch(f"parameter {i}", p1, want, case)
        if line:
            hint = ""
            if g is not None and tuple(p1.shape) == tuple(p0.shape):
                if torch.allclose(p1.double(), p0 + lr * g, rtol=1e-6, atol=1e-9):
                    hint = " — likely mistake: the sign; gradient descent subtracts lr · grad"
                elif torch.equal(p1, p0):
                    hint = " — the parameter did not change: update the tensor in place (p -= lr * p.grad)"
            elif g is None:
                hint = " — this parameter's .grad is None: skip it"
            return [f"sgd_step [{case['label']}]: {line}{hint}"], contract
        if g1 is not None and bool((g1 != 0).any()):
            return [f"sgd_step [{case['label']}]: parameter {i}'s gradient is still there after the step; "
                    "set p.grad = None (or zero it) so the next backward does not add to it"], contract
    return [], contract


def check_epoch(case: dict, r: dict) -> Check:
    contract = []
    if r.get("value_type") != "float":
        contract.append(f"train_epoch returned a {r.get('value_type')}; expected a Python float (use loss.item())")
    n = len(case["batches"])
    if r.get("loss_calls") != n:
        contract.append(f"train_epoch called loss_fn {r.get('loss_calls')} times for {n} batches; expected once per batch")
    want_loss, want_params = ref_train_epoch(case)
    problems = []
    names = [f"{k}_{d}" for d in range(1, len(want_params) // 2 + 1) for k in ("weight", "bias")]
    for name, got, want in zip(names, r.get("params") or [], want_params):
        line = _mismatch(f"{name} after the epoch", got, want, case)
        if line:
            problems.append(f"train_epoch [{case['label']}]: {line} — one sgd_step(model.parameters(), lr) after "
                            "each batch's backward, every batch once")
            break
    value = r.get("value")
    if value is None:
        problems.append(f"train_epoch returned {r.get('value_type')}, expected the mean batch loss (a float)")
    elif not math.isclose(value, want_loss, rel_tol=1e-6, abs_tol=1e-9):
        shown = f"expected {want_loss:.6g}, got {value:.6g}" if case["visible"] else "wrong value (hidden case)"
        problems.append(f"train_epoch [{case['label']}]: returned loss {shown} — return the mean of the batch "
                        "losses computed before each update")
    return problems, contract


CHECKS: dict[str, Callable[[dict, dict], Check]] = {
    "count_parameters": check_count, "perceptron_predict": check_predict, "perceptron_train": check_train,
    "xor_perceptrons": check_xor, "relu_interpolant": check_relu, "step_approximation": check_step,
    "collapse_linear": check_collapse, "MLP": check_mlp, "sgd_step": check_sgd, "train_epoch": check_epoch,
}


# ----------------------------------------------------------------------------------------------
# Scoring


def _dedupe(lines: list[str], limit: int = 6) -> list[str]:
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen[:limit]


def _run_check(task: Task, case: dict, r: dict) -> Check:
    if r.get("error"):
        return [_error_text(task.name, r["error"])], []
    try:
        return CHECKS[task.name](case, r)
    except Exception as exc:  # a malformed return value must cost the case, never crash grading
        return [f"{task.name} [{case['label']}]: the grader could not read the result ({type(exc).__name__}: {exc})"], []


def score_task(assignment: Assignment, task: Task, cases: list[dict], results: list[dict] | None,
               failure: str | None) -> list[Outcome]:
    """One Outcome per category: main cases, edge cases, contract (visible and hidden cases alike)."""
    keys = [c.key for c in assignment.categories]
    if failure is not None or results is None:
        return all_failed(task.name, keys, failure or "the submission did not run")
    if any(r.get("missing") for r in results):
        kind = "class" if task.name == "MLP" else "function"
        msg = f"{kind} {task.name} not found in {assignment.submission} — keep the name exactly `{task.name}`"
        return all_failed(task.name, keys, msg)
    nie = next((_error_text(task.name, r["error"]) for r in results
                if r.get("error") and "NotImplementedError" in r["error"]), None)
    checked = [(c, _run_check(task, c, r)) for c, r in zip(cases, results)]
    scores: dict[str, tuple[float, list[str]]] = {}
    for key in ("main", "edge"):
        part = [(c, p) for c, (p, _) in checked if c["kind"] == key]
        if not part:
            scores[key] = (0.0, ["no cases ran"])
            continue
        passed = sum(not p for _, p in part)
        scores[key] = (passed / len(part), _dedupe([line for _, p in part for line in p]))
    ran = [c for (c, (p, _)), r in zip(checked, results) if not r.get("error")]
    contract = _dedupe([line for _, (_, k) in checked for line in k])
    if not ran:
        contract = contract or [next((p[0] for _, (p, _) in checked if p), "no case ran without an error")]
    scores["compliance"] = (0.0 if contract else 1.0, contract)
    outcomes = []
    for k in keys:
        frac, lines = scores[k]
        if nie:
            lines = [nie] + [ln for ln in lines if "not implemented" not in ln]
        outcomes.append(Outcome(task.name, k, frac, lines))
    return outcomes
