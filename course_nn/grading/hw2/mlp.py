"""hw2 tasks 8–10, the handout's third section: the MLP built from the hw1 Functions, one SGD step,
one epoch of training.

The MLP's expected outputs and gradients come from an equivalent torch MLP; its spiral accuracy is
measured here from the weights the child trained, on the spiral the trainer uses
(``course_nn.data.tasks.spiral``). Each task keeps its cases, reference, check and hints together.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_nn.data.tasks import spiral
from course_nn.grading.feedback import HIDDEN, likely
from course_nn.grading.hw2 import flow
from course_nn.grading.hw2.common import (
    Cases,
    Check,
    allclose,
    differs,
    layer_sizes,
    mlp_weights,
    rand_int,
    randn,
    uniform,
)

SPIRAL_BAR = 0.90  # test accuracy the trained MLP must reach...
SPIRAL_MARGIN = 0.05  # ...or this close to the reference's, where the reference itself falls short
# The grader's training run on the trainer's spiral (the reference reaches 95-99% on it)
SPIRAL = {"sizes": [2, 32, 32, 2], "n_train": 400, "n_test": 1000, "epochs": 100, "batch": 50,
          "lr": 0.1, "momentum": 0.9}


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


# ----------------------------------------------------------------------------------------------
# Task 8, MLP: forward and gradients through the given Functions; trains on the spiral


def _mlp_case(g, layers: int, activation: str, batch: int | None = None) -> dict:
    sizes = layer_sizes(g, layers)
    n = batch if batch is not None else rand_int(g, 3, 6)
    return {"mode": "forward", "sizes": sizes, "activation": activation, "weights": mlp_weights(g, sizes),
            "x": randn(g, n, sizes[0]), "grad_output": randn(g, n, sizes[-1]), "perturb": flow.draw(g)}


def _spiral_case(g) -> dict:
    """Spiral training data and initial weights; the test set is regenerated here from test_seed."""
    data_seed, test_seed = rand_int(g, 0, 2**30), rand_int(g, 0, 2**30)
    x, y = spiral(SPIRAL["n_train"], torch.Generator().manual_seed(data_seed))
    init = torch.Generator().manual_seed(data_seed + 1)
    weights = []
    for a, b in zip(SPIRAL["sizes"][:-1], SPIRAL["sizes"][1:]):
        bound = math.sqrt(3 / a)  # uniform with variance 1/fan_in
        weights += [(torch.rand(b, a, generator=init) * 2 - 1) * bound, torch.zeros(b)]
    return {"mode": "spiral", "sizes": list(SPIRAL["sizes"]), "activation": "relu", "weights": weights,
            "x": x, "y": y, "epochs": SPIRAL["epochs"], "batch": SPIRAL["batch"], "lr": SPIRAL["lr"],
            "momentum": SPIRAL["momentum"], "seed": data_seed + 2, "test_seed": test_seed, "perturb": flow.draw(g)}


def cases_mlp(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", "2 layers, relu", _mlp_case(g, 2, "relu")), ("main", "3 layers, sigmoid", _mlp_case(g, 3, "sigmoid"))]
    if not visible:
        out += [("main", "3 layers, relu", _mlp_case(g, 3, "relu")), ("main", "4 layers, relu", _mlp_case(g, 4, "relu")),
                ("main", "2 layers, sigmoid", _mlp_case(g, 2, "sigmoid")),
                ("edge", "one layer (no hidden layer, no activation)", _mlp_case(g, 1, "relu")),
                ("edge", "batch size 1", _mlp_case(g, 2, "sigmoid", batch=1))]
    out.append(("edge", f"trains on spiral to >= {SPIRAL_BAR:.0%} test accuracy", _spiral_case(g)))
    return out


# torch.nn modules that compute what the supplied Functions compute; containers (Sequential, ModuleList) are not here:
# a Sequential of the file's own modules that call the supplied functions is an honest style (the numbers decide)
TORCH_LAYERS = ("Linear", "LazyLinear", "Bilinear", "ReLU", "Sigmoid")


def _mlp_contract(case: dict, r: dict, settled: bool = False) -> list[str]:
    """The MLP's contract lines; ``settled`` (output and gradients right): throw-away calls do not count."""
    sizes = case["sizes"]
    want = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((b, a), (b,))]
    if not r.get("loaded"):
        shapes = ", ".join("(" + ", ".join(map(str, s)) + (",)" if len(s) == 1 else ")") for s in r.get("shapes", []))
        return [f"MLP({sizes}).parameters() yields [{shapes}]; expected weight_1 (n_1, n_0), bias_1 (n_1,), "
                f"weight_2, bias_2, ... in that order ({len(want)} tensors) — register them as torch.nn.Parameter"]
    out = []
    layers = len(sizes) - 1
    calls = r.get("calls")
    made = {k: flow.counted(r, k, settled) for k in flow.KINDS}
    if calls is not None and made["Linear"] != layers:
        out.append(f"forward called functions.Linear.apply {made['Linear']} times for {layers} layers; "
                   "build every layer from the supplied functions (functions.Linear.apply(x, W, b))")
    other = "Sigmoid" if case["activation"] == "relu" else "ReLU"
    if calls is not None and made[other]:
        out.append(f"MLP(activation={case['activation']!r}) called functions.{other}.apply")
    if calls is not None and layers > 1 and not made["ReLU" if other == "Sigmoid" else "Sigmoid"]:
        out.append("forward never called the activation through the supplied functions "
                   "(functions.ReLU.apply / functions.Sigmoid.apply)")
    if calls is not None and calls.get("backward", 0):
        out.append("the MLP ran a backward pass through the supplied functions while it was built or in forward "
                   "(torch.autograd.grad or .backward()); forward only computes the output — autograd runs backward "
                   "once, from the loss")
    layers_held = [m for m in r.get("submodules", []) if m in TORCH_LAYERS]
    if layers_held:  # a container (Sequential, ModuleList) of the file's own modules is a style, not a layer
        out.append(f"the model holds torch.nn layers ({', '.join(layers_held)}); use parameters and the "
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


MLP_GENERAL = "each layer is x ← Linear(x, weight_d, bias_d), then the activation on every layer except the last"


def _mlp_hint(case: dict, out: torch.Tensor) -> str:
    ws = [w.double() for w in case["weights"]]
    x = case["x"].double()
    with torch.no_grad():
        for variant, text in MLP_VARIANTS:  # fresh Functions each time: every call's mark is its own
            if allclose(out, flow.forward(flow.functions(case), ws, x, case["activation"], variant)):
                return text
    return MLP_GENERAL


# An output no dropped mark explains is not the supplied functions' MLP either (the spiral was graded on accuracy
# alone: torch built-ins beside zero-weighted calls passed it)
SPIRAL_OFF = ("before training, on the spiral's first 8 points, the MLP's output is not what functions.Linear.apply and "
              "the activation's .apply give layer by layer (the random cases show which step differs)")


def _flow(case: dict, r: dict, expected: tuple) -> str:
    """The spiral case's data-flow check: one forward and backward with the marked Functions, run
    before training in float32 (hence the tolerance); "" when they carry the computation."""
    out, grads = r.get("flow_out"), r.get("flow_grads") or []
    want, want_grads, _ = expected
    if not isinstance(out, torch.Tensor) or not allclose(out, want, 1e-4, 1e-5):
        missing = flow.bypassed_in_forward(case, out, flow.spiral_input(case), 1e-4, 1e-5) \
            if isinstance(out, torch.Tensor) else []
        if missing:
            return flow.text(missing, "output")
        return SPIRAL_OFF if isinstance(out, torch.Tensor) else ""
    if _grads_right(grads, None, want_grads, None, 1e-4, 1e-5):
        return ""
    missing = flow.bypassed_in_backward(case, grads, None, 1e-4, 1e-5)  # the output is right: gradients must be too
    return flow.text(missing, "backward pass") if missing else flow.reran(case, r) or flow.UNEXPLAINED


def _settled(case: dict, r: dict, expected: tuple) -> bool:
    """Whether the output and gradients that came back are exactly ``expected``, those of the MLP built
    from the Functions handed in (the spiral case: its one marked forward and backward, in float32)."""
    want, want_grads, want_x = expected
    if case["mode"] == "spiral":
        out, grads, x_grad, want_x, tol = r.get("flow_out"), r.get("flow_grads") or [], None, None, (1e-4, 1e-5)
    else:
        out, grads, x_grad, tol = r.get("out"), r.get("grads") or [], r.get("x_grad"), (1e-6, 1e-9)
    return isinstance(out, torch.Tensor) and allclose(out, want, *tol) and \
        _grads_right(grads, x_grad, want_grads, want_x, *tol)


def _test_accuracy(case: dict, weights: list[torch.Tensor]) -> float:
    x_test, y_test = spiral(SPIRAL["n_test"], torch.Generator().manual_seed(int(case["test_seed"])))
    with torch.no_grad():
        logits = mlp_forward([w.double() for w in weights], x_test.double(), case["activation"])
    return float((logits.argmax(1) == y_test).double().mean()) if bool(torch.isfinite(logits).all()) else 0.0


def _reference_accuracy(case: dict) -> float:
    """The grader's own MLP trained by the child's very loop (probe_hw2.train_spiral) on this case."""
    from course_nn.grading.child.probe_hw2 import train_spiral

    weights = [w.detach().float().clone().requires_grad_(True) for w in case["weights"]]
    train_spiral(lambda x: mlp_forward(weights, x, case["activation"]), weights, case)
    return _test_accuracy(case, [w.detach() for w in weights])


def _check_spiral(case: dict, r: dict) -> list[str]:
    """At least SPIRAL_BAR test accuracy — or, on a spiral so hard that the grader's own MLP does not
    reach it either (a rare draw of the hidden data), within SPIRAL_MARGIN of what that MLP reaches:
    a correct submission never pays for an unlucky draw."""
    weights = r.get("weights") or []
    if len(weights) != len(case["weights"]) or not all(isinstance(w, torch.Tensor) for w in weights):
        return ["the trained weights did not come back"]
    acc = _test_accuracy(case, weights)
    if acc >= SPIRAL_BAR:
        return []
    bar = min(SPIRAL_BAR, _reference_accuracy(case) - SPIRAL_MARGIN)  # trained only when it matters
    if acc >= bar:
        return []
    return [f"after {case['epochs']} epochs of SGD the test accuracy is {acc:.1%}, below {bar:.0%}"
            + likely("the network does not learn; check forward and that every weight gets a gradient")]


GRADED = " — building the MLP from the given Functions is what this task grades"


def _grads_right(grads: list, x_grad, want: list, want_x, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    pairs = list(zip(grads, want)) + ([(x_grad, want_x)] if want_x is not None else [])
    return len(grads) == len(want) and all(isinstance(g, torch.Tensor) and allclose(g, w, rtol, atol)
                                           for g, w in pairs)


def _ignores_functions(contract: list[str]) -> list[str]:
    """Contract lines saying forward did not go through the supplied Functions: the point of the task."""
    return [line for line in contract if "supplied functions" in line and "torch.nn layers" not in line]


def check_mlp(case: dict, r: dict) -> Check:
    expected = flow.expected(case) if r.get("loaded") else None  # output and gradients, computed once
    settled = expected is not None and _settled(case, r, expected)
    skip = flow.throwaways(r) if expected is not None and not settled else {}
    if skip:  # calls whose backward never ran (a value logged before the layers) took marks of their own
        other = flow.expected(case, flow.functions(case, skip=skip))
        if _settled(case, r, other):
            expected, settled = other, True
    contract = _mlp_contract(case, r, settled)
    if not r.get("loaded"):
        return contract[:1], contract
    ignored = _ignores_functions(contract)
    if ignored:  # correct numbers from torch.relu / nn.Linear are not an MLP built from the Functions
        return [ignored[0] + GRADED], contract
    unreached = flow.unreached(case, r, settled)
    if unreached:  # a result detached, discarded or computed beside: the plainest message; the numbers still decide
        beside = flow.text(unreached, "output")
        return [beside + GRADED], contract + [beside]
    if case["mode"] == "spiral":
        beside = _flow(case, r, expected) or flow.reran(case, r, settled)
        if beside:
            return [beside + GRADED], contract + [beside]
        return _check_spiral(case, r), contract
    out = r.get("out")
    if not isinstance(out, torch.Tensor):
        return [f"forward returned {r.get('out_type')}, expected a tensor"], contract
    want_out, want_grads, want_x = expected
    line = differs("forward output", out, want_out, case)
    if line:
        hint = _mlp_hint(case, out)
        missing = flow.bypassed_in_forward(case, out) if hint == MLP_GENERAL else []
        if missing:  # right numbers, computed beside the Functions handed in
            beside = flow.text(missing, "output")
            return [beside + GRADED], contract + [beside]
        return [line + likely(hint)], contract
    if r.get("no_graph"):
        return ["the output has no autograd graph (requires_grad is False)"
                + likely("a detach() or torch.no_grad() in forward")], contract
    names = [f"{k}_{d}" for d in range(1, len(case["sizes"])) for k in ("weight", "bias")]
    grads = r.get("grads") or []
    missing = [] if _grads_right(grads, r.get("x_grad"), want_grads, want_x) else \
        flow.bypassed_in_backward(case, grads, r.get("x_grad"))
    beside = flow.text(missing, "backward pass") if missing else flow.reran(case, r, settled)  # right numbers too: did
    if beside:  # autograd alone run the Functions' backward? The gradients did not go back through them alone
        return [beside + GRADED], contract + [beside]
    graph = ("the output is right but its graph is not: keep every step inside autograd (no .data, .detach(), "
             "new tensors from .item(), or in-place edits of intermediate results)")
    for name, got, want in zip(names, grads, want_grads):
        if got is None:
            return [f"{name} got no gradient from backward" + likely(graph)], contract
        line = differs(f"d loss / d {name}", got, want, case)
        if line:
            return [line + likely(graph)], contract
    x_grad = r.get("x_grad")
    if x_grad is None or differs("d loss / d x", x_grad, want_x, case):
        return ["the gradient with respect to the input x is wrong or missing" + likely(graph)], contract
    return [], contract


MLP_ERRORS = (("cannot be multiplied", "weight_d has shape (n_d, n_(d-1)) and Linear computes x Wᵀ + b"),)


# ----------------------------------------------------------------------------------------------
# Task 9, sgd_step: one in-place step, gradients cleared


def cases_sgd(g: torch.Generator, visible: bool) -> Cases:
    out = []
    for i in range(2 if visible else 3):
        shapes = [tuple(layer_sizes(g, rand_int(g, 0, 2))) for _ in range(rand_int(g, 2, 5))]
        out.append(("main", f"random parameters #{i + 1}",
                    {"params": [randn(g, *s) for s in shapes], "grads": [randn(g, *s) for s in shapes],
                     "lr": float(uniform(g, 0.01, 1.0, 1))}))
    shapes = [(3, 4), (3,), (2, 3), (2,)]
    grads = [randn(g, *s) for s in shapes]
    grads[1] = None
    out.append(("edge", "a parameter whose grad is None (skipped)",
                {"params": [randn(g, *s) for s in shapes], "grads": grads, "lr": 0.5}))
    return out


def _sgd_hint(p0: torch.Tensor, g: torch.Tensor | None, p1: torch.Tensor, lr: float) -> str:
    if g is None:
        return "this parameter's .grad is None: skip it and leave it unchanged"
    if tuple(p1.shape) != tuple(p0.shape):
        return "the parameter's shape changed; update it in place"
    if allclose(p1, p0 + lr * g):
        return "the sign: gradient descent moves against the gradient, p ← p - lr · p.grad"
    if torch.equal(p1.double(), p0.double()):
        return ("the parameter did not change: update the tensor itself in place under torch.no_grad() "
                "(p -= lr * p.grad); p = p - ... only rebinds a local name")
    if allclose(p1, p0 - g):
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
        line = differs(f"params[{i}]", p1, want, case)
        if line:
            return [line + likely(_sgd_hint(p0, g, p1, lr))], contract
        if g1 is not None and bool((g1 != 0).any()):
            return [f"params[{i}].grad is still set after the step"
                    + likely("the gradients were not cleared; set p.grad = None (or zero it) so the next "
                              "backward does not add to the old gradient")], contract
    return [], contract


SGD_ERRORS = (
    ("NoneType", "a parameter's .grad can be None: skip it"),
    ("leaf Variable that requires grad", "update under torch.no_grad() so autograd does not record it"),
)


# ----------------------------------------------------------------------------------------------
# Task 10, train_epoch: one epoch of minibatch SGD


def _loss(name: str) -> Callable:
    return F.mse_loss if name == "mse" else F.cross_entropy


def _epoch_case(g, n_batches: int, loss: str, activation: str) -> dict:
    sizes = layer_sizes(g, 2)
    batches = []
    for _ in range(n_batches):
        n = rand_int(g, 2, 6)
        x = randn(g, n, sizes[0])
        y = randn(g, n, sizes[-1]) if loss == "mse" else torch.randint(0, sizes[-1], (n,), generator=g)
        batches.append((x, y))
    return {"weights": mlp_weights(g, sizes), "activation": activation, "batches": batches, "loss": loss,
            "lr": float(uniform(g, 0.05, 0.5, 1))}


def cases_epoch(g: torch.Generator, visible: bool) -> Cases:
    out = [("main", "3 batches, cross-entropy", _epoch_case(g, 3, "cross_entropy", "relu")),
           ("edge", "a single batch", _epoch_case(g, 1, "cross_entropy", "relu"))]
    if not visible:
        out += [("main", "4 batches, cross-entropy, sigmoid", _epoch_case(g, 4, "cross_entropy", "sigmoid")),
                ("edge", "2 batches, squared error", _epoch_case(g, 2, "mse", "relu"))]
    return out


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


# A Python float, or numpy's float64 (a float subclass: np.mean); a class of the file's is reported as "object"
FLOATS = ("float", "float64")


def check_epoch(case: dict, r: dict) -> Check:
    contract = []
    if r.get("value_type") not in FLOATS:
        contract.append(f"returned a {r.get('value_type')}; expected a Python float (use loss.item())")
    n = len(case["batches"])
    if r.get("loss_calls") != n:
        contract.append(f"called loss_fn {r.get('loss_calls')} times for {n} batches; expected once per batch")
    losses, want_params = ref_epoch_losses(case)
    want_loss = sum(losses) / len(losses)
    problems = []
    names = [f"{k}_{d}" for d in range(1, len(want_params) // 2 + 1) for k in ("weight", "bias")]
    got_params = r.get("params") or []
    if len(got_params) != len(want_params):  # the probe reports the model's own tensors: always all of them
        problems.append(f"the model's {len(want_params)} parameters did not all come back after the epoch")
    for name, got, want, before in zip(names, got_params, want_params, case["weights"]):
        line = differs(f"{name} after the epoch", got, want, case)
        if line:
            hint = ("the parameters never changed: after each batch's backward call sgd_step(model.parameters(), lr)"
                    if torch.equal(got.double(), before.double()) else
                    "one sgd_step(model.parameters(), lr) after each batch's backward, every batch once, in order")
            problems.append(line + likely(hint))
            break
    value = r.get("value")
    if value is None:
        problems.append(f"returned {r.get('value_type')}, expected the mean batch loss (a float)")
    elif not math.isclose(value, want_loss, rel_tol=1e-6, abs_tol=1e-9):
        shown = f"expected {want_loss:.6g}, got {value:.6g}" if case["visible"] else f"is wrong ({HIDDEN})"
        sizes = [int(x.shape[0]) for x, _ in case["batches"]]
        problems.append(f"the returned loss {shown}" + likely(_epoch_loss_hint(losses, sizes, value)))
    return problems, contract
