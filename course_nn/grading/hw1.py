"""hw1 on the parent side: choose the inputs, compute references with torch's built-ins, score.

The child only reports what the submission returned; every comparison happens here, against
float64 references from ``torch.nn.functional``. Hidden cases come from a secret seed, so a student
never sees their inputs, and feedback on them never prints expected values.

What the grader knows about each Function (its inputs, torch's built-in, its arguments' names, its
edge cases and the mistakes typical of it) is one ``FunctionSpec`` in ``SPECS``; everything below
the table is the same for every Function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_nn.grading import feedback  # in-place wording: compare and trace say it alike
from course_nn.grading.cases import streams
from course_nn.grading.feedback import Mismatch, index_text, likely, mismatch, shape_text, value_text
from course_nn.grading.outcome import TIP, Outcome, case_error, failures_then_tips, is_tip, unrunnable
from course_nn.registry import Assignment, Task
from course_nn.registry.hw1 import AUTOGRAD

PROBE = "probe_hw1"
EPS = 1e-6  # finite-difference step of the split gradcheck (float64)
TOL = {torch.float64: (1e-6, 1e-9), torch.float32: (1e-4, 1e-5)}  # (rtol, atol) per dtype
GC_TOL = (1e-3, 1e-5)  # gradcheck's own defaults: (rtol, atol)
AUTOGRAD_ERRORS = ("does not require grad", "does not have a grad_fn", "Inference tensors",
                   "inference_mode", "element 0 of tensors")


# ----------------------------------------------------------------------------------------------
# Random inputs. Shapes are random and non-square; values stay away from kinks (ReLU's 0) except
# in the edge cases that test the kink on purpose.


def _size(g: torch.Generator, lo: int, hi: int, avoid: tuple[int, ...] = ()) -> int:
    while True:
        n = int(torch.randint(lo, hi + 1, (1,), generator=g))
        if n not in avoid:
            return n


def _randn(g, *shape, dtype=torch.float64, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64).mul(scale).to(dtype)


def _away_from_zero(g, *shape, dtype=torch.float64):
    mag = torch.rand(*shape, generator=g, dtype=torch.float64) * 1.9 + 0.1
    sign = torch.randint(0, 2, shape, generator=g).double() * 2 - 1
    return (mag * sign).to(dtype)


def _probs(g, n, c, dtype=torch.float64):
    return torch.softmax(_randn(g, n, c, scale=2.0), dim=1).to(dtype)


# ----------------------------------------------------------------------------------------------
# One spec per Function: its inputs, torch's built-in, its arguments' names, its edge cases and
# the mistakes typical of it. The hooks' defaults mean "nothing special about this Function".


def _no_hint(*_args) -> str:
    return ""


def _general(_case: dict, _out: torch.Tensor, _ref: torch.Tensor, general: str) -> str:
    return general


def _exact(_case: dict, _got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    return want


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the grader knows about one Function; the hooks default to "nothing special"."""

    # (g, n, d, dtype, small, variant) -> forward's arguments; n (batch) and d are drawn for every Function
    inputs: Callable[..., list]
    reference: Callable[..., torch.Tensor]  # torch's built-in: the thing students may not call
    input_names: tuple[str, ...]  # forward's arguments as the handout names them
    edge_cases: tuple[tuple[str, dict], ...]  # (label, options of the case)
    needs: tuple[bool, ...] | None = None  # which inputs get a gradient; None: every floating tensor
    shared: tuple[str, ...] = ()  # inputs the whole batch shares: their gradient is a sum over it
    error_hints: tuple[tuple[str, str], ...] = ()  # (text in an exception's message, likely mistake)
    overflow_hint: str = "the output has nan or inf"  # forward gave nan/inf where torch's is finite
    # (case, out, ref, general hint) -> likely mistake in forward's value; the general one is a scale slip
    forward_hint: Callable[[dict, torch.Tensor, torch.Tensor, str], str] = _general
    raise_hint: Callable[[dict], str] = _no_hint  # (case) -> said after an exception from forward
    # (name, case, got, want) -> a gradient mistake only this Function makes ("" when none)
    grad_hint: Callable[[str, dict, torch.Tensor, torch.Tensor], str] = _no_hint
    # (name, got, want) -> the same for a gradient of the wrong shape
    shape_hint: Callable[[str, torch.Tensor, torch.Tensor], str] = _no_hint
    mean_over: str = ""  # a loss: what its mean runs over, if more than the batch
    # (case, got, want) -> ``want`` with the other answers this Function accepts put in
    accept: Callable[[dict, torch.Tensor, torch.Tensor], torch.Tensor] = _exact


# Square and Sigmoid: x of shape (N, D), elementwise.


def _elementwise_inputs(g, n, d, dtype, small, variant) -> list:
    return [_randn(g, n, d, dtype=dtype, scale=800.0 if variant == "large" else 2.0)]


def _sigmoid_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    if torch.allclose(out.double(), 1 - ref.double(), atol=1e-6):
        return "the sign in the exponent — g(z) = 1 / (1 + e^(-z))"
    return general


def _sigmoid_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    z, g = case["inputs"][0].double(), case["grad_output"].double()
    if torch.allclose(got.double(), g * z * (1 - z), rtol=1e-5, atol=1e-9):  # saved the input z, not the output
        return "you used the input z where the derivative needs the output σ(z): dσ/dz = σ(z)(1 − σ(z)); save the output"
    return ""


# ReLU: z of shape (N, D), away from the kink unless the case is about it.


def _relu_inputs(g, n, d, dtype, small, variant) -> list:
    z = _away_from_zero(g, n, d, dtype=dtype)
    if variant == "zeros":
        z.view(-1)[:: 2] = 0.0  # exactly at the kink
    return [z]


def _relu_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    z = case["inputs"][0]
    off = ~torch.isclose(got.double(), want.double(), rtol=1e-6, atol=1e-9)
    if not bool(off.any()):
        return ""
    if bool((off <= (z == 0)).all()):
        return ("at exactly z = 0 the gradient must be c · grad_output with c in [0, 1] (0 like torch, 1 like "
                "the lecture): both are subgradients")
    if bool((off <= (z <= 0)).all()):
        return ("the gradient leaks where the output is 0 (z ≤ 0): a mask built from the output must be "
                "[g > 0], not [g ≥ 0] (g = max(0, z) is never negative)")
    return ""


def _relu_accept(case: dict, got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    """At exactly z = 0 any value in [0, 1] times grad_output is a subgradient, so accept it there."""
    z, g = case["inputs"][0], case["grad_output"].double()
    kink = z == 0
    if not bool(kink.any()) or got.shape != want.shape:
        return want
    lo, hi = torch.minimum(g, torch.zeros_like(g)), torch.maximum(g, torch.zeros_like(g))
    slack = 1e-6 * (1 + g.abs())
    a = got.double()
    inside = kink & (a >= lo - slack) & (a <= hi + slack)
    return torch.where(inside, a, want.double())


# QuadraticForm: v of shape (k,), A of shape (k, k).


def _quadratic_inputs(g, n, d, dtype, small, variant) -> list:
    k = 1 if variant == "n1" else _size(g, 2, 4 if small else 6)
    return [_randn(g, k, dtype=dtype), _randn(g, k, k, dtype=dtype)]


def _quadratic_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    if name != "v":
        return ""
    v, a = (t.double() for t in case["inputs"])
    if torch.allclose(got.double(), 2 * a @ v * case["grad_output"].double(), rtol=1e-5, atol=1e-9):
        return "2Av holds only for symmetric A — use (A + Aᵀ)v"
    return ""


# Linear: x (N, in), weight (out, in) as in F.linear, bias (out,) or None.

LAYOUT = ("weight has F.linear's layout (out, in): y = x Wᵀ + b is x.mm(weight.t()), not x @ weight; "
          "in backward dJ/dx = G W and dJ/dW = Gᵀ x")


def _linear_inputs(g, n, d, dtype, small, variant) -> list:
    fan_in = _size(g, 2, 4 if small else 9, avoid=(n,))
    fan_out = fan_in if variant == "square" else _size(g, 2, 4 if small else 9, avoid=(n, fan_in))
    bias = None if variant == "nobias" else _randn(g, fan_out, dtype=dtype)
    return [_randn(g, n, fan_in, dtype=dtype), _randn(g, fan_out, fan_in, dtype=dtype), bias]


def _is_x_at_w(case: dict, out: torch.Tensor) -> bool:
    """Did forward compute x @ W (+ b), the (in, out) layout, instead of x Wᵀ + b?"""
    x, w, b = (t.double() if isinstance(t, torch.Tensor) else t for t in case["inputs"])
    if w.shape[0] != w.shape[1]:
        return False
    want = x @ w + (b if b is not None else 0)
    return tuple(out.shape) == tuple(want.shape) and torch.allclose(out.double(), want, rtol=1e-4, atol=1e-6)


def _linear_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    return LAYOUT if _is_x_at_w(case, out) else general


def _linear_shape_hint(name: str, got: torch.Tensor, want: torch.Tensor) -> str:
    per_example = got.dim() == want.dim() + 1 and tuple(got.shape[1:]) == tuple(want.shape)
    if name == "bias" and (per_example or (got.dim() == 2 and got.shape[-1] == want.shape[0])):
        return "did you forget to sum the bias gradient over the batch (dim 0)?"
    if name == "weight" and tuple(got.shape) == tuple(want.shape[::-1]):
        return "dJ/dW has W's shape (out, in): use grad_outputᵀ · x"
    return ""


# SquaredError and CrossEntropy: losses, one number for the batch.


def _pair_inputs(g, n, d, dtype, small, variant) -> list:
    return [_randn(g, n, d, dtype=dtype), _randn(g, n, d, dtype=dtype)]


PROBABILITY_LOSS = "−(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k"


def _cross_entropy_inputs(g, n, d, dtype, small, variant) -> list:
    c = _size(g, 3, 5 if small else 8, avoid=(n,))
    logits = _randn(g, n, c, dtype=dtype, scale=1e4 if variant == "large" else 2.0)
    if variant == "probs":
        return [logits, _probs(g, n, c, dtype)]
    return [logits, torch.randint(0, c, (n,), generator=g)]


def _probability_targets(case: dict) -> bool:
    return case["inputs"][1].is_floating_point()


def _cross_entropy_accept(case: dict, got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    """A float32 softmax of logits near ±1e4 is only as exact as float32 is at that size: its
    log-sum-exp rounds by about eps·max|z|, so each p is off by that fraction (torch's own float32
    cross-entropy too). Accept that much of p in dJ/dz = g (p − y) / N, no more."""
    logits = case["inputs"][0]
    if logits.dtype != torch.float32 or got.shape != want.shape:
        return want
    z = logits.double()
    fraction = 4 * torch.finfo(torch.float32).eps * float(z.abs().max())
    slack = fraction * torch.softmax(z, dim=1) * case["grad_output"].double().abs() / z.shape[0]
    a = got.double()
    inside = (a - want.double()).abs() <= slack + TOL[torch.float32][1]
    return torch.where(inside, a, want.double())


def _cross_entropy_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    if general or not _probability_targets(case):
        return general
    return "with probability targets the loss is -(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k"


def _cross_entropy_raise_hint(case: dict) -> str:
    if not _probability_targets(case):
        return ""
    return (" (the target is (N, C) class probabilities) — likely mistake: only integer class indices "
            f"are handled; with probability rows the loss is {PROBABILITY_LOSS}")


OVERFLOW = "exp overflowed — "

SPECS: dict[str, FunctionSpec] = {
    "Square": FunctionSpec(
        _elementwise_inputs, lambda x: x * x, ("x",),
        (("batch size 1", {"batch": 1}), ("float32 inputs", {"dtype": torch.float32}))),
    "QuadraticForm": FunctionSpec(
        _quadratic_inputs, lambda v, a: v @ a @ v, ("v", "A"),
        (("n = 1", {"variant": "n1"}), ("only v needs a gradient", {"needs": [True, False]}),
         ("only A needs a gradient", {"needs": [False, True]})),
        grad_hint=_quadratic_grad_hint),
    "Sigmoid": FunctionSpec(
        _elementwise_inputs, torch.sigmoid, ("z",),
        (("batch size 1", {"batch": 1}), ("large |z| (±800): no overflow to nan", {"variant": "large"}),
         ("float32 inputs", {"dtype": torch.float32})),
        overflow_hint=OVERFLOW + "write g(z) = 1 / (1 + exp(-z)), which is finite for any z",
        forward_hint=_sigmoid_forward_hint, grad_hint=_sigmoid_grad_hint),
    "ReLU": FunctionSpec(
        _relu_inputs, torch.relu, ("z",),
        (("inputs exactly 0 (any value in [0, 1] at the kink)", {"variant": "zeros"}),
         ("batch size 1", {"batch": 1})),
        grad_hint=_relu_grad_hint, accept=_relu_accept),
    "Linear": FunctionSpec(
        _linear_inputs, F.linear, ("x", "weight", "bias"),
        (("with bias=None", {"variant": "nobias"}), ("batch size 1", {"batch": 1}),
         ("square weight (in = out)", {"variant": "square"}),
         ("only weight and bias need gradients", {"needs": [False, True, True]}),
         ("only x needs a gradient", {"needs": [True, False, False]}),
         ("with bias=None, only weight needs a gradient", {"variant": "nobias", "needs": [False, True, False]})),
        shared=("weight", "bias"),
        error_hints=(("cannot be multiplied", LAYOUT), ("size mismatch", LAYOUT),
                     ("NoneType", "bias can be None: then y = x Wᵀ and the bias gradient is None")),
        forward_hint=_linear_forward_hint, shape_hint=_linear_shape_hint),
    "SquaredError": FunctionSpec(
        _pair_inputs, F.mse_loss, ("pred", "target"),
        (("batch size 1", {"batch": 1}), ("only pred needs a gradient", {"needs": [True, False]}),
         ("only target needs a gradient", {"needs": [False, True]})),
        mean_over=" (over all M = N·D elements)"),
    "CrossEntropy": FunctionSpec(
        _cross_entropy_inputs, F.cross_entropy, ("logits", "target"),
        (("logits 1e4 (finite and stable)", {"variant": "large"}),
         ("probability targets", {"variant": "probs"}), ("batch size 1", {"batch": 1}),
         ("float32 inputs, logits 1e4", {"variant": "large", "dtype": torch.float32})),
        needs=(True, False),  # the target gets no gradient
        accept=_cross_entropy_accept,
        error_hints=(("expected scalar type Long", "with probability targets (a float (N, C) target) there is no "
                                                   f"class index to gather: use {PROBABILITY_LOSS}"),),
        overflow_hint=OVERFLOW + "subtract each row's maximum logit before exp (stable softmax)",
        forward_hint=_cross_entropy_forward_hint, raise_hint=_cross_entropy_raise_hint),
}


def make_inputs(task: str, g: torch.Generator, dtype, small: bool = False, batch: int | None = None,
                variant: str = "") -> list:
    """Random inputs for one call of ``task`` (a list in forward's argument order)."""
    n = batch if batch is not None else _size(g, 3, 4 if small else 7)
    d = _size(g, 2, 4 if small else 9, avoid=(n,))
    return SPECS[task].inputs(g, n, d, dtype, small, variant)


def reference(task: str, inputs: list) -> torch.Tensor:
    """torch's built-in version of ``task`` (the thing students may not call)."""
    return SPECS[task].reference(*inputs)


def _differentiable(x) -> bool:
    return isinstance(x, torch.Tensor) and x.is_floating_point()


def default_needs(task: str, inputs: list) -> list[bool]:
    needs = SPECS[task].needs
    return list(needs) if needs is not None else [_differentiable(x) for x in inputs]


def reference_grads(task: str, inputs: list, needs: list[bool], grad_output: torch.Tensor) -> list:
    """dJ/d(input) for each input (None where not needed), computed in float64 by autograd."""
    x64 = [x.detach().double().requires_grad_(n) if _differentiable(x) else x for x, n in zip(inputs, needs)]
    out = reference(task, x64)
    wanted = [x for x, n in zip(x64, needs) if n and _differentiable(x)]
    grads = iter(torch.autograd.grad(out, wanted, grad_output.double()) if wanted else [])
    return [next(grads) if (n and _differentiable(x)) else None for x, n in zip(x64, needs)]


# ----------------------------------------------------------------------------------------------
# Cases


def _grad_output(g, out: torch.Tensor) -> torch.Tensor:
    if out.dim() == 0:  # a loss: a random upstream scalar catches "forgot to multiply by grad_output"
        return (torch.rand((), generator=g, dtype=torch.float64) + 0.5).to(out.dtype)
    return _randn(g, *out.shape, dtype=out.dtype)


def precompute(cases: dict[str, list[dict]]) -> None:
    """Fill in the references while the child works. Call only after the cases were sent to it:
    the keys added here never reach student code."""
    for task, task_cases in cases.items():
        for case in task_cases:
            if case["kind"] == "gradcheck":
                continue
            inputs64 = [x.double() if _differentiable(x) else x for x in case["inputs"]]
            case["_ref_out"] = reference(task, inputs64)
            case["_ref_grads"] = reference_grads(task, case["inputs"], case["needs"], case["grad_output"])


def _case(task, g, kind, label, visible, dtype=torch.float64, device="cpu", needs=None, **kw) -> dict:
    inputs = make_inputs(task, g, dtype, **kw)
    needs = list(needs) if needs is not None else default_needs(task, inputs)
    out = reference(task, [x.double() if _differentiable(x) else x for x in inputs]).to(dtype)
    return {"task": task, "kind": kind, "label": label, "visible": visible, "inputs": inputs,
            "needs": needs, "grad_output": _grad_output(g, out), "device": device, "dtype": str(dtype)}


def _gradcheck_case(task, g, label, visible) -> dict:
    case = _case(task, g, "gradcheck", label, visible, small=True)
    points = [(i, j) for i, x in enumerate(case["inputs"]) if case["needs"][i] and _differentiable(x)
              for j in range(x.numel())]
    case["eps"] = EPS
    case["points"] = torch.tensor(points, dtype=torch.int64).reshape(-1, 2)
    return case


def make_cases(assignment: Assignment, seed: int, visible_only: bool, devices: tuple[str, ...] = ("cpu",),
               public_seed: int = 0) -> dict[str, list[dict]]:
    """All cases per task: visible ones from the public seed, hidden ones from ``seed``."""
    cases: dict[str, list[dict]] = {t.name: [] for t in assignment.tasks}
    for task, visible, tag, g in streams(assignment, seed, visible_only, public_seed):
        name, todo = task.name, cases[task.name]
        n64, n32 = (2, 1) if visible else (4, 2)
        todo += [_case(name, g, "main", f"{tag} random float64 #{i + 1}", visible) for i in range(n64)]
        todo += [_case(name, g, "main", f"{tag} random float32 #{i + 1}", visible, dtype=torch.float32)
                 for i in range(n32)]
        if not visible:
            for dev in devices:
                if dev != "cpu":
                    todo += [_case(name, g, "main", f"{tag} {dev} {dt}", visible, dtype=dt, device=dev)
                             for dt in (torch.float64, torch.float32)]
        todo += [_gradcheck_case(name, g, f"{tag} gradcheck #{i + 1}", visible) for i in range(1 if visible else 2)]
        for label, opts in SPECS[name].edge_cases:
            todo.append(_case(name, g, "edge", f"{tag} {label}", visible, **opts))
    return cases


# ----------------------------------------------------------------------------------------------
# A value off by a clean factor: name the slip


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


def _case_info(case: dict) -> dict:
    first = case["inputs"][0]
    return {"batch": first.shape[0] if first.dim() else 1, "numel": first.numel()}


# ----------------------------------------------------------------------------------------------
# Checking one case


def compare(actual: torch.Tensor, expected: torch.Tensor, dtype) -> Mismatch | None:
    """None when close enough for ``dtype``; otherwise the worst entry."""
    rtol, atol = TOL.get(dtype, TOL[torch.float32])
    return mismatch(actual, expected, rtol, atol)


def _where(case: dict) -> str:
    return f"[{case['label']}]"


def _not_implemented_text(task: str, where: str, message: str, case: dict | None) -> str:
    text = message.split("NotImplementedError:", 1)[-1].split(" (line ", 1)[0].strip()
    if case is not None and not case.get("visible"):
        text = ""  # a hidden case's message is never shown
    return "not implemented: " + (text or f"{task}.{where} raised NotImplementedError")


def _error_text(task: str, where: str, message: str, case: dict | None = None, exc: str = "") -> str:
    """An exception from the student's code, naming the case (its message only on visible cases)."""
    if exc == "NotImplementedError" or (not exc and "NotImplementedError" in message):
        return _not_implemented_text(task, where, message, case)
    hint = next((h for text, h in SPECS[task].error_hints if text in message), "")
    if any(s in message for s in AUTOGRAD_ERRORS) and where == "backward":
        hint = "backward must compute the gradient by hand from saved tensors, without autograd"
    if case is None:
        return f"{task}.{where} raised {message}" + likely(hint)
    return case_error(f"{task}.{where}", case, message, exc) + likely(hint)


def _type_text(kind: str, visible: bool) -> str:
    """How to name a returned value's type ("a float", "a tensor subclass") for feedback."""
    if kind.startswith("subclass:"):
        return "a tensor subclass" + (f" ({kind[9:]})" if visible else "") + " — return a plain torch.Tensor"
    if kind == "None":
        return "None"
    return f"a {kind}" if visible else "something that is not a tensor"


def forward_hint(task: str, case: dict, out: torch.Tensor, ref: torch.Tensor, scale: str | None = None) -> str:
    """The likely mistake behind a wrong forward value ("" when none is known); ``scale`` is the
    scale hint agreed over every case (None: decide from this case alone)."""
    spec = SPECS[task]
    if not bool(torch.isfinite(out).all()) and bool(torch.isfinite(ref).all()):
        return spec.overflow_hint
    general = scale if scale is not None else scale_hint(out, ref, _case_info(case))
    return spec.forward_hint(case, out, ref, general or "")


def _loss_shape_hint(task: str, out: torch.Tensor, ref: torch.Tensor) -> str:
    if ref.dim() == 0 and out.dim() >= 1:
        return likely(f"the loss was returned per example; a loss is one number (shape ()): take the mean over "
                       f"the batch{SPECS[task].mean_over}")
    return ""


def _direct(r: dict) -> dict:
    """The direct call's record; a result without one (malformed or missing) raises KeyError."""
    return r["direct"]


def check_forward(task: str, case: dict, r: dict, hints: dict | None = None) -> list[str]:
    """Problems with the forward result of one case (empty when it is right)."""
    d = _direct(r)
    where = _where(case)
    if d["error_forward"]:
        text = _error_text(task, "forward", d["error_forward"], case, d.get("exc_forward", ""))
        if "not implemented" not in text and "likely mistake" not in text:
            text += SPECS[task].raise_hint(case)
        return [text]
    out = d["out"]
    if out is None:
        kind = d.get("out_type") or "None"
        return [f"{task}.forward {where}: returned {_type_text(kind, case['visible'])}"
                + ("" if kind.startswith("subclass:") else ", expected a tensor")]
    ref = case.get("_ref_out")
    if ref is None:
        ref = reference(task, [x.double() if _differentiable(x) else x for x in case["inputs"]])
    dtype = getattr(torch, case["dtype"].split(".")[-1])
    if tuple(out.shape) != tuple(ref.shape):
        return [f"{task}.forward {where}: output has shape {shape_text(out)}, expected {shape_text(ref)}"
                + _loss_shape_hint(task, out, ref)]
    problems = []
    if out.dtype != dtype:
        problems.append(f"{task}.forward {where}: output dtype is {out.dtype} for {dtype} inputs — "
                        "likely mistake: a hard-coded dtype (torch.tensor(...), torch.zeros(n)); use x.new_zeros or zeros_like")
    if d.get("out_device") and d["out_device"].split(":")[0] != case["device"]:
        problems.append(f"{task}.forward {where}: output is on {d['out_device']} for inputs on {case['device']} — "
                        "create new tensors on the input's device")
    m = compare(out, ref, dtype)
    if m:
        hint = forward_hint(task, case, out, ref, (hints or {}).get("out"))
        problems.append(f"{task}.forward {where}: output{index_text(m.index)} {value_text(m, case['visible'])}"
                        + (f"; likely mistake: {hint}" if hint else ""))
    for i, (before, after) in enumerate(zip(case["inputs"], d.get("inputs_after_forward") or [])):
        if isinstance(before, torch.Tensor) and after is not None and not torch.equal(before, after.to(before.dtype)):
            problems.append(f"{task}.forward {where}: modified its input `{SPECS[task].input_names[i]}` in place "
                            "(e.g. clamp_, +=, [...] = ); compute a new tensor instead")
    return problems


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
    return (scale if scale is not None else scale_hint(got, want, _case_info(case))) or ""


def shape_hint(task: str, name: str, got: torch.Tensor, want: torch.Tensor) -> str:
    """Why the gradient for ``name`` may have shape ``got.shape`` instead of ``want.shape``."""
    specific = SPECS[task].shape_hint(name, got, want)
    if specific:
        return specific
    if got.dim() == want.dim() + 1 and tuple(got.shape[1:]) == tuple(want.shape):  # at batch size 1 too
        return (f"one gradient per example: `{name}` is shared by every example, so its gradient is the sum "
                f"over the batch (dim 0)" + (" — grad_outputᵀ · x does that sum for you" if name == "weight" else ""))
    if got.numel() == want.numel():
        return "same number of elements: a reshape or transpose is off"
    return "each gradient has exactly its input's shape"


def _grad_problem(task: str, case: dict, d: dict, i: int, got, want, hints: dict | None) -> str | None:
    """What is wrong with the gradient for input ``i`` (a line starting with TIP costs nothing)."""
    name, x = SPECS[task].input_names[i], case["inputs"][i]
    where = _where(case)
    kind = (d.get("grad_types") or ["None"] * (i + 1))[i] if i < len(d.get("grad_types") or []) else \
        ("None" if got is None else "Tensor")
    if want is None:
        if kind == "None":
            return None
        if x is None:
            return (f"{task}.backward {where}: returned a gradient for `{name}`, which is None — return None "
                    "there (PyTorch rejects a gradient for an input that is not a tensor)")
        why = "integer class indices (ctx.needs_input_grad is False)" if not _differentiable(x) else \
            f"ctx.needs_input_grad[{i}] is False"
        return (f"{TIP}{task}.backward returned a gradient for `{name}` although {why} — allowed (autograd "
                "drops it), but you could skip that work and return None")
    if kind != "Tensor":
        if kind == "None":
            return (f"{task}.backward {where}: returned None for `{name}`, which needs a gradient "
                    f"(ctx.needs_input_grad[{i}] is True)")
        return f"{task}.backward {where}: returned {_type_text(kind, case['visible'])} for `{name}`"
    if tuple(got.shape) != tuple(x.shape):
        return (f"{task}.backward {where}: gradient for `{name}` has shape {shape_text(got)}, "
                f"expected {shape_text(x)} like `{name}` — {shape_hint(task, name, got, x)}")
    dtype = getattr(torch, case["dtype"].split(".")[-1])
    problems = []
    if got.dtype != dtype:
        problems.append(f"gradient for `{name}` is {got.dtype}, expected {dtype} — avoid hard-coded dtypes; "
                        "build new tensors with zeros_like / new_ones")
    want = SPECS[task].accept(case, got, want)
    m = compare(got, want, dtype)
    if m:
        hint = grad_hint(task, name, case, got, want, i, (hints or {}).get(name))
        problems.append(f"dJ/d{name}{index_text(m.index)} {value_text(m, case['visible'])}"
                        + (f"; likely mistake: {hint}" if hint else ""))
    return f"{task}.backward {where}: " + "; ".join(problems) if problems else None


def check_backward(task: str, case: dict, r: dict, hints: dict | None = None) -> list[str]:
    """Problems with the directly-called backward of one case (empty when it is right; tips cost nothing)."""
    d = _direct(r)
    where = _where(case)
    if d["error_forward"]:
        return [_error_text(task, "forward", d["error_forward"], case, d.get("exc_forward", ""))
                + " (backward not tested)"]
    if d["out"] is None:
        return [f"{task}.forward {where}: did not return a plain torch.Tensor (backward not tested)"]
    if d["error_backward"]:
        return [_error_text(task, "backward", d["error_backward"], case, d.get("exc_backward", ""))]
    names = SPECS[task].input_names
    inputs = case["inputs"]
    if d["n_grads"] != len(inputs):
        return [f"{task}.backward {where}: returned {d['n_grads']} value(s) but forward takes {len(inputs)} "
                f"inputs ({', '.join(names)}): return one gradient per input, None where there is none"]
    refs = case.get("_ref_grads") or reference_grads(task, inputs, case["needs"], case["grad_output"])
    problems = [p for i, (got, want) in enumerate(zip(d["grads"], refs))
                if (p := _grad_problem(task, case, d, i, got, want, hints))]
    after = d.get("grad_output_after")
    if after is not None and not torch.equal(after.to(case["grad_output"].dtype), case["grad_output"]):
        problems.append(f"{task}.backward {where}: {feedback.GRAD_OUTPUT_IN_PLACE}")
    for i, (before, after_fwd, after_all) in enumerate(zip(inputs, d.get("inputs_after_forward") or [],
                                                          d.get("inputs_after") or [])):
        if isinstance(before, torch.Tensor) and after_fwd is not None and after_all is not None \
                and not torch.equal(after_fwd, after_all):
            problems.append(f"{task}.backward {where}: {feedback.input_in_place(names[i])}")
    attrs = sorted(set(d.get("ctx_tensor_attrs") or []) | set(r.get("apply", {}).get("ctx_tensor_attrs") or []))
    if attrs:
        extra = ""
        if r.get("apply", {}).get("version_error") is False:
            extra = " (torch's version-counter check could not protect them: an in-place change went unnoticed)"
        problems.append(f"{task}: tensors stored as ctx attributes ({', '.join('ctx.' + a for a in attrs)}); "
                        f"save tensors with ctx.save_for_backward(...) only{extra}")
    return problems


def check_edge(task: str, case: dict, r: dict, hints: dict | None = None) -> list[str]:
    """An edge case checks forward and backward; a forward that raised is reported once."""
    forward = check_forward(task, case, r, hints)
    d = _direct(r)
    if d["error_forward"] or d["out"] is None:
        return forward
    return forward + check_backward(task, case, r, hints)


def check_gradcheck(task: str, case: dict, r: dict) -> list[str]:
    """The split gradcheck: finite differences from the child's forward values, done here."""
    gc = r["gradcheck"]
    if gc.get("error"):
        return [_error_text(task, "forward/backward", gc["error"], case, gc.get("exc", "")) + " (during gradcheck)"]
    names = SPECS[task].input_names
    points = case["points"].tolist()
    plus, minus, jac = gc.get("plus"), gc.get("minus"), gc.get("jac") or []
    if plus is None or minus is None or len(plus) != len(points):
        return [f"{task}: gradcheck got no forward values"]
    numeric = (plus.double() - minus.double()) / (2 * case["eps"])  # (points, n_out)
    rtol, atol = GC_TOL
    for p, (i, j) in enumerate(points):
        jac_i = jac[i] if i < len(jac) else None
        if jac_i is None:
            return [f"{task}: gradcheck: backward returned no gradient for `{names[i]}`"]
        if jac_i.shape[-1] != case["inputs"][i].numel():
            want = case["inputs"][i].numel()
            per_example = jac_i.shape[-1] % want == 0 and jac_i.shape[-1] > want
            hint = (" — did you forget to sum the bias gradient over the batch?" if per_example and names[i] == "bias"
                    else f" — one gradient per example? `{names[i]}` is shared by the whole batch: sum its gradient "
                         "over dim 0" if per_example and names[i] in SPECS[task].shared else "")
            return [f"{task}: gradcheck: gradient for `{names[i]}` has {jac_i.shape[-1]} elements, expected {want} "
                    f"(the shape of `{names[i]}`){hint}"]
        ana = jac_i[:, j].double()
        num = numeric[p]
        bad = (ana - num).abs() > atol + rtol * num.abs()
        if bool(bad.any()):
            k = int(bad.nonzero()[0])
            in_idx = tuple(int(t) for t in torch.unravel_index(torch.tensor(j), case["inputs"][i].shape))
            diff = abs(float(ana[k] - num[k]))
            err = (f"relative error {diff / abs(float(num[k])):.1e} (tolerance {rtol:g})" if abs(float(num[k])) > atol
                   else f"absolute error {diff:.1e} where about 0 is expected (tolerance {atol:g})")
            values = (f"numerical {float(num[k]):.6g}, analytical {float(ana[k]):.6g}, " if case["visible"] else "")
            return [f"{task}: gradcheck [{case['label']}]: ∂out[{k}]/∂{names[i]}{index_text(in_idx)}: "
                    f"{values}{err} — your backward disagrees with finite differences of your own forward"]
    return []


def check_compliance(task: Task, results: list[tuple[dict, dict]]) -> tuple[list[str], bool]:
    """Certain signs that autograd or a built-in did the work (the evadable ones go to review).

    Returns the problems and whether forward itself broke the rules (then forward earns nothing either).
    """
    problems: set[str] = set()
    in_forward = False
    for _case, r in results:
        if r.get("tampered"):
            problems.add(f"{task.name}: your file replaced code the grader or autograd relies on — "
                         "a submission may only define its Functions")
            in_forward = True
        d = r.get("direct")
        if not isinstance(d, dict):
            continue
        ops = set(d.get("ops") or [])
        forward_ops = set(d.get("ops_forward") or [])
        for name in sorted(ops & task.forbidden):
            in_forward |= name in forward_ops
            problems.add(f"{task.name} calls `{name}`, which is not allowed here — "
                         + ("no autograd inside a Function: derive the gradient by hand" if name in AUTOGRAD
                            else f"compute it from primitives (exp, log, sum, mm, where, ...) instead of torch's `{name}`"))
        for op in sorted(o for o in ops if o.startswith("aten.") and o.endswith("_backward")):
            problems.add(f"{task.name}: torch's own backward kernel `{op[5:]}` ran inside your Function — "
                         "write the gradient formula yourself")
        apply = r.get("apply") or {}
        if apply.get("graph_on_ctx"):
            problems.add(f"{task.name}: forward kept an autograd graph on ctx ({', '.join(apply['graph_on_ctx'])}) — "
                         "forward must not record a graph for backward to differentiate")
            in_forward = True
        if (d.get("error_backward") and any(s in d["error_backward"] for s in AUTOGRAD_ERRORS)
                and not apply.get("error")):
            problems.add(f"{task.name}.backward works only inside autograd (it failed when called directly): "
                         "compute the gradient by hand from saved tensors")
    return sorted(problems), in_forward


def _not_implemented(results: list[tuple[dict, dict]]) -> str | None:
    """The first "not implemented" line (its text from a visible case only)."""
    for case, r in sorted(results, key=lambda cr: not cr[0].get("visible")):
        records = [(r.get("direct") or {}, "forward"), (r.get("direct") or {}, "backward"), (r.get("gradcheck") or {}, "")]
        for rec, stage in records:
            message = rec.get(f"error_{stage}" if stage else "error") or ""
            exc = rec.get(f"exc_{stage}" if stage else "exc") or ""
            if exc == "NotImplementedError" or (not exc and "NotImplementedError" in message):
                return _not_implemented_text(case["task"], stage or "forward", message, case)
    return None


def _unreadable(task: str, case: dict, r: dict) -> list[str]:
    """A result the probes did not produce (missing, malformed): the case fails with a reason."""
    error = r.get("error") if isinstance(r, dict) else None
    if error and r.get("stage") == "probe":  # an exception that escaped the probe: student text
        return [_error_text(task, "forward/backward", str(error), case)]
    return [f"{task} [{case['label']}]: " + (str(error) if error else "no usable result came back for this case")]


def _fraction(results, checker) -> tuple[float, list[str]]:
    """The share of cases whose problems are only tips, and their distinct lines (failures first)."""
    if not results:
        return 0.0, ["no cases ran"]
    lines: list[str] = []
    passed = 0
    for case, r in results:
        try:
            problems = checker(case, r)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError):
            problems = _unreadable(case["task"], case, r)
        passed += all(is_tip(p) for p in problems)
        lines += problems
    return passed / len(results), failures_then_tips(lines)


def _ratios(task: str, pairs: list[tuple[dict, dict]]) -> dict[str, str]:
    """Per quantity (the output, each input's gradient): one scale hint consistent over every case,
    or "" when the cases agree on none (absent: too few cases to tell, each case decides)."""
    obs: dict[str, list] = {}
    for case, r in pairs:
        d = r.get("direct") if isinstance(r, dict) else None
        if case["kind"] == "gradcheck" or not isinstance(d, dict):
            continue
        info = _case_info(case)
        ref = case.get("_ref_out")
        if ref is None:
            ref = reference(task, [x.double() if _differentiable(x) else x for x in case["inputs"]])
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


def score_task(assignment: Assignment, task: Task, cases: list[dict], results: list[dict] | None,
               failure: str | None) -> list[Outcome]:
    """One Outcome per category for one Function."""
    keys = [c.key for c in assignment.categories]
    early = unrunnable(assignment, task, results, failure, "class")
    if early is not None:
        return early
    results = [r if isinstance(r, dict) else {"error": "a malformed result came back for this case"} for r in results]
    results += [{"error": "no result came back for this case"}] * (len(cases) - len(results))
    pairs = list(zip(cases, results))
    nie = _not_implemented(pairs)
    by_kind = {kind: [(c, r) for c, r in pairs if c["kind"] == kind] for kind in ("main", "edge", "gradcheck")}
    name = task.name
    hints = _LazyHints(name, pairs)
    fwd = _fraction(by_kind["main"], lambda c, r: check_forward(name, c, r, hints))
    bwd = _fraction(by_kind["main"], lambda c, r: check_backward(name, c, r, hints))
    gc = _fraction(by_kind["gradcheck"], lambda c, r: check_gradcheck(name, c, r))
    edge = _fraction(by_kind["edge"], lambda c, r: check_edge(name, c, r, hints))
    comp, forward_broke_rules = check_compliance(task, pairs)
    gated = set(assignment.gated_by_compliance) | ({"forward"} if forward_broke_rules else set())
    ran = any(isinstance(r.get("direct"), dict) and r["direct"].get("out") is not None
              and not r["direct"]["error_forward"] and not r["direct"]["error_backward"] for r in results)
    if not ran and not comp:
        first = ([ln for ln in fwd[1] + bwd[1] if not is_tip(ln)] + ["see the other checks"])[0]
        comp = [f"{name} never ran forward and backward to the end, so it cannot be checked: {first}"]
    if nie:
        comp = [nie]
    scores = {"forward": fwd, "backward": bwd, "gradcheck": gc, "edge": edge,
              "compliance": (0.0 if comp else 1.0, comp)}
    outcomes = []
    for k in keys:
        frac, lines = scores[k]
        if nie and frac < 1.0:
            lines = [nie] + [ln for ln in lines if "not implemented" not in ln]
        if comp and not nie and k in gated and frac > 0:
            frac, lines = 0.0, [f"no credit: {comp[0]}"] + lines
        outcomes.append(Outcome(name, k, frac, lines))
    return outcomes
