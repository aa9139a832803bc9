"""hw1's cases: what the parent asks each Function, visible ones from the public seed, hidden ones
from the secret one, and the references the parent adds while the child works."""

from __future__ import annotations

import torch

from course_nn.grading.cases import streams
from course_nn.grading.hw1.inputs import randn, shape_text, size
from course_nn.grading.hw1.specs import (
    SPECS,
    default_needs,
    differentiable,
    make_inputs,
    reference,
    reference_grads,
)
from course_nn.registry import Assignment

EPS = 1e-6  # finite-difference step of the split gradcheck (float64)


def _grad_output(g, out: torch.Tensor) -> torch.Tensor:
    if out.dim() == 0:  # a loss: a random upstream scalar catches "forgot to multiply by grad_output"; kept
        # away from 1 so that g · input never looks like an input nudged by a finite-difference step
        return (torch.rand((), generator=g, dtype=torch.float64) * 1.5 + 1.5).to(out.dtype)
    return randn(g, *out.shape, dtype=out.dtype)


def precompute(cases: dict[str, list[dict]]) -> None:
    """Fill in the references while the child works. Call only after the cases were sent to it:
    the keys added here never reach student code. A case that already has them (the reference output
    computed with the case, the visible cases' references kept per process) keeps them."""
    for task, task_cases in cases.items():
        for case in task_cases:
            if case["kind"] == "gradcheck":
                if "_ref_slopes" not in case:
                    case["_ref_slopes"] = reference_slopes(task, case)
                continue
            if "_ref_out" not in case:
                inputs64 = [x.double() if differentiable(x) else x for x in case["inputs"]]
                case["_ref_out"] = reference(task, inputs64)
            if "_ref_grads" not in case:
                case["_ref_grads"] = reference_grads(task, case["inputs"], case["needs"], case["grad_output"])


def _case(task, g, kind, label, visible, dtype=torch.float64, device="cpu", needs=None, tol=None, **kw) -> dict:
    inputs = make_inputs(task, g, dtype, **kw)
    needs = list(needs) if needs is not None else default_needs(task, inputs)
    ref = reference(task, [x.double() if differentiable(x) else x for x in inputs])
    case = {"task": task, "kind": kind, "label": label, "visible": visible, "inputs": inputs,
            "needs": needs, "grad_output": _grad_output(g, ref.to(dtype)), "device": device, "dtype": str(dtype)}
    if kind != "gradcheck":
        case["_ref_out"] = ref  # the float64 reference output (a parent-only key: never sent)
    if tol is not None:
        case["tol"] = [float(t) for t in tol]  # tighter than the dtype's (an accuracy case)
    return case


def _gradcheck_case(task, g, label, visible) -> dict:
    case = _case(task, g, "gradcheck", label, visible, small=True)
    points = [(i, j) for i, x in enumerate(case["inputs"]) if case["needs"][i] and differentiable(x)
              for j in range(x.numel())]
    case["eps"] = EPS
    case["points"] = torch.tensor(points, dtype=torch.int64).reshape(-1, 2)
    return case


def reference_slopes(task: str, case: dict) -> torch.Tensor:
    """The split gradcheck's central differences of torch's built-in, at the case's points and step, the
    way the child moves the inputs: (points, outputs). A forward's own differences must match them, or a
    forward could fake its values near the points to agree with any backward."""
    eps, rows = float(case["eps"]), []
    inputs = [x.detach() if isinstance(x, torch.Tensor) else x for x in case["inputs"]]  # torch's built-ins only read
    for i, j in case["points"].tolist():
        sides = []
        for sign in (1.0, -1.0):
            moved = list(inputs)
            moved[i] = inputs[i].clone()
            moved[i].view(-1).narrow(0, j, 1).add_(sign * eps)  # as the child moves it (probe_hw1._gradcheck)
            sides.append(reference(task, moved).double().reshape(-1))
        rows.append((sides[0] - sides[1]) / (2 * eps))
    return torch.stack(rows) if rows else torch.zeros(0, 0, dtype=torch.float64)


def make_cases(assignment: Assignment, seed: int, visible_only: bool, devices: tuple[str, ...] = ("cpu",),
               public_seed: int = 0) -> dict[str, list[dict]]:
    """All cases per task: visible ones from the public seed, hidden ones from ``seed``."""
    cases: dict[str, list[dict]] = {t.name: [] for t in assignment.tasks}
    for task, visible, tag, g in streams(assignment, seed, visible_only, public_seed):
        if visible:
            cases[task.name] += _visible(assignment.name, task.name, public_seed, g, tag)
        else:
            cases[task.name] += _task_cases(task.name, g, tag, visible, devices)
    return cases


_VISIBLE: dict[tuple[str, str, int], list[dict]] = {}  # (assignment, task, public seed) -> its visible cases


def _visible(assignment: str, task: str, public_seed: int, g: torch.Generator, tag: str) -> list[dict]:
    """A task's visible cases with their references: the same for every submission (the public seed), so
    drawn once per process (a batch's workers inherit them from the warm-up) and handed out as copies
    whose tensors are clones, so that nothing one grading does to them reaches the next."""
    key = (assignment, task, public_seed)
    if key not in _VISIBLE:
        made = _task_cases(task, g, tag, True, ("cpu",))
        precompute({task: made})
        _VISIBLE[key] = made
    return [{k: _cloned(v) for k, v in c.items()} for c in _VISIBLE[key]]


def _cloned(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, list):
        return [_cloned(v) for v in value]
    return value


def _task_cases(name: str, g: torch.Generator, tag: str, visible: bool, devices: tuple[str, ...]) -> list[dict]:
    """One task's cases from one stream (``g``): its visible or its hidden ones."""
    todo: list[dict] = []
    n64, n32 = (2, 1) if visible else (4, 2)
    todo += [_case(name, g, "main", f"{tag} random float64 #{i + 1}", visible) for i in range(n64)]
    todo += [_case(name, g, "main", f"{tag} random float32 #{i + 1}", visible, dtype=torch.float32)
             for i in range(n32)]
    if not visible:
        for dev in devices:
            if dev != "cpu":
                todo += [_case(name, g, "main", f"{tag} {dev} {dt}", visible, dtype=dt, device=dev)
                         for dt in (torch.float64, torch.float32)]
    if not visible:  # one wide input: a loop over its elements stands out (compliance.py)
        wide = SPECS[name].wide
        todo.append(_case(name, g, "main", f"{tag} a wide input" + (f" {shape_text(wide['shape'])}"
                                                                     if "shape" in wide else ""), visible, **wide))
    todo += [_gradcheck_case(name, g, f"{tag} gradcheck #{i + 1}", visible) for i in range(1 if visible else 2)]
    for label, opts in (*SPECS[name].edge_cases, *contract_cases(name, g, visible)):
        todo.append(_case(name, g, "edge", f"{tag} {label}", visible, **opts))
    for label, opts in SPECS[name].accuracy:
        todo.append({**_case(name, g, "edge", f"{tag} {label}", visible, **opts), "accuracy": True})
    return todo


# ----------------------------------------------------------------------------------------------
# The contract's corners, each its own edge case named after what it tests: every combination of
# needs_input_grad (the random cases have all of them), and the shapes the docstrings promise.


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def needs_cases(task: str) -> list[tuple[str, dict]]:
    """("only bias needs a gradient", options) for every proper, non-empty subset of the inputs that
    may need a gradient, per variant of the inputs (Linear with and without a bias)."""
    spec = SPECS[task]
    out = []
    for variant, prefix, indices in spec.grad_inputs:
        n_inputs = len(spec.input_names)
        for mask in range(1, 2 ** len(indices) - 1):
            chosen = [i for k, i in enumerate(indices) if mask >> k & 1]
            names = [spec.input_names[i] for i in chosen]
            verb = "needs a gradient" if len(names) == 1 else "need gradients"
            options: dict = {"needs": [i in chosen for i in range(n_inputs)]}
            if variant:
                options["variant"] = variant
            out.append((f"{prefix}only {_names(names)} {verb}", options))
    return out


def shape_cases(g: torch.Generator) -> list[tuple[str, dict]]:
    """A 0-dim, a 1-D and a 3-D input, for the Functions whose inputs may have any shape."""
    one = (size(g, 2, 9),)
    three = tuple(size(g, 2, 4) for _ in range(3))
    return [(f"a {kind} input {shape_text(shape)}", {"shape": shape})
            for kind, shape in (("0-dim", ()), ("1-D", one), ("3-D", three))]


def contract_cases(task: str, g: torch.Generator, visible: bool) -> list[tuple[str, dict]]:
    """The contract's corners, on the visible inputs only: whether a needs_input_grad branch runs, or
    code written for 2-D inputs copes with 0-dim, 1-D and 3-D ones, does not depend on the values."""
    if not visible:
        return []
    return needs_cases(task) + (shape_cases(g) if SPECS[task].any_shape else [])
