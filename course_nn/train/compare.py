"""Compare a student's Functions with torch's built-ins, layer by layer, one batch forward and backward
(the command and what it prints: course_nn/train/cli_compare.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass
class Check:
    """One compared tensor: ``where`` names it, ``culprit`` is the Function that produced it."""

    where: str
    culprit: str
    ok: bool
    detail: str


def compare_tensors(expected, actual, rtol: float, atol: float) -> tuple[bool, str]:
    """(all close?, one-line detail). The detail names the first index (row-major) that differs,
    both values and the relative error |actual − expected| / |expected|."""
    from course_nn.grading.feedback import mismatch, relative_error

    if actual is None:
        return False, "missing: the student's backward returned None"
    if actual.shape != expected.shape:
        return False, f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
    m = mismatch(actual, expected, rtol, atol, first=True, finite=True)
    if m is None:
        rel = relative_error(actual, expected)
        return True, f"ok (max relative error {float(rel.max()) if rel.numel() else 0.0:.1e})"
    return False, (f"first differs at index {m.index}: expected {m.expected:.6e}, actual {m.actual:.6e} "
                   f"(relative error {m.rel_err:.1e}; {m.count} of {m.total} entries differ)")


def _trace(model, x):
    """Forward through ``model``'s layers keeping every z_k (pre-activation) and a_k (activation)
    with retained gradients. Returns (zs, as_) with as_[0] = x."""
    zs, acts = [], [x]
    for i, layer in enumerate(model.layers):
        z = model.fns.Linear.apply(acts[-1], layer.weight, layer.bias)
        z.retain_grad()
        zs.append(z)
        if i < len(model.layers) - 1:
            a = model._act(z)
            a.retain_grad()
            acts.append(a)
    return zs, acts


def _shape_hint(culprit: str, expected, actual) -> str | None:
    """What a gradient of the wrong shape usually means: the grader's own hint (one wording everywhere)."""
    import re

    import torch

    from course_nn.grading import hw1

    m = re.fullmatch(r"(\w+)\.backward \(grad_(\w+)\)", culprit)
    if not (m and isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor)):
        return None
    return hw1.shape_hint(m.group(1), m.group(2), actual, expected) or None


@dataclass
class Call:
    """One call of a student's Function in the forward pass: which gradients its backward yields."""

    fn: object  # the Function class
    ctx: object  # the grad_fn autograd made for this call: the ctx backward gets in training
    grad_in: tuple  # key of the upstream gradient, e.g. ("z", 2)
    grads_out: tuple  # keys of the returned gradients, one per forward input (None: not compared)
    inputs: tuple = ()  # the tensors forward received (and may have saved): backward must not change them


def _leaf(t):
    return t.detach().requires_grad_(True)


def _forward_calls(model, x, y, classification: bool):
    """The student's forward, one Function call at a time, each on fresh leaf inputs so that each
    call's grad_fn is its own ctx. Returns (calls in forward order, zs, acts, loss)."""
    fns, calls, zs, acts = model.fns, [], [], [x]
    n = len(model.layers)
    for i, layer in enumerate(model.layers, start=1):
        args = (acts[-1] if i == 1 else _leaf(acts[-1]), _leaf(layer.weight), _leaf(layer.bias))
        z = fns.Linear.apply(*args)
        calls.append(Call(fns.Linear, z.grad_fn, ("z", i), (("a", i - 1) if i > 1 else None, ("W", i), ("b", i)),
                          args))
        zs.append(z)
        if i < n:
            act = fns.ReLU if model.activation == "relu" else fns.Sigmoid
            args = (_leaf(z),)
            a = act.apply(*args)
            calls.append(Call(act, a.grad_fn, ("a", i), (("z", i),), args))
            acts.append(a)
    loss_fn = fns.CrossEntropy if classification else fns.SquaredError
    args = (_leaf(zs[-1]), y)
    loss = loss_fn.apply(*args)
    calls.append(Call(loss_fn, loss.grad_fn, ("J", 0), (("z", n), None), args))
    return calls, zs, acts, loss


def _direct_backward(calls: list[Call], loss):
    """Call each Function's backward directly, from the loss down, as the grader does. Returns
    ({key: gradient as returned}, the exception that stopped it or None, {key of the first gradient
    a backward returned: what it changed in place})."""
    import torch

    grads: dict[tuple, object] = {("J", 0): torch.ones_like(loss.detach())}
    in_place: dict[tuple, str] = {}
    for call in reversed(calls):
        upstream = grads.get(call.grad_in)
        if upstream is None:
            break
        given = upstream.clone()  # a copy, as the grader hands it: an in-place edit is seen, not spread
        before = [t.detach().clone() if isinstance(t, torch.Tensor) else None for t in call.inputs]
        try:
            with torch.no_grad():
                out = call.fn.backward(call.ctx, given)
        except Exception as err:  # the student's backward raised: compare what came before
            return grads, err, in_place
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        for key, grad in zip(call.grads_out, out):
            if key is not None:
                grads[key] = grad
        what = _changed_in_place(call, upstream, given, before)
        if what:
            in_place[next(k for k in call.grads_out if k is not None)] = what
    return grads, None, in_place


def _changed_in_place(call: Call, upstream, given, before: list) -> str:
    """The grader's words for what ``call``'s backward wrote into (grad_output, a saved input), or ""."""
    from course_nn.grading.feedback import GRAD_OUTPUT_IN_PLACE, changed, input_in_place
    from course_nn.impl import ARGUMENTS

    name = f"{call.fn.__name__}.backward"
    if changed(upstream, given):
        return f"{name}: {GRAD_OUTPUT_IN_PLACE}"
    args = ARGUMENTS.get(call.fn.__name__, ())
    for i, (was, now) in enumerate(zip(before, call.inputs)):
        if was is not None and changed(was, now.detach()):
            return f"{name}: {input_in_place(args[i] if i < len(args) else f'input {i}')}"
    return ""


def _hints(act_fn: str, zs, acts, grads) -> dict[str, str]:
    """Hints for differences whose cause can be recognised from the values: per Check culprit."""
    import torch

    hints = {}
    if act_fn != "Sigmoid":
        return hints
    for k in range(1, len(acts)):
        got, up, z = grads.get(("z", k)), grads.get(("a", k)), zs[k - 1].detach()
        if isinstance(got, torch.Tensor) and isinstance(up, torch.Tensor) and got.shape == z.shape:
            from course_nn.grading import hw1

            case = {"inputs": [z], "grad_output": up, "needs": [True]}
            hint = hw1.grad_hint("Sigmoid", "z", case, got, up * acts[k].detach() * (1 - acts[k].detach()), 0)
            if hint:
                hints["Sigmoid.backward"] = f"Sigmoid.backward: {hint}"
    return hints


def run_compare(args: argparse.Namespace) -> tuple[list[Check], list[Check], str]:
    """Run both networks on one batch; returns (forward checks, backward checks, header line)."""
    import torch

    from course_nn.data import load_task
    from course_nn.errors import UsageError
    from course_nn.impl import default_impl, describe_failure, load_functions, torch_functions
    from course_nn.train.model import ACTIVATIONS, MODELS, build_network
    from course_nn.train.trainer import hidden_sizes, resolve_device

    if args.model not in MODELS or args.activation not in ACTIVATIONS:
        raise UsageError(f"--model must be one of {', '.join(MODELS)} and --activation one of {', '.join(ACTIVATIONS)}")
    hidden = hidden_sizes(args.hidden)
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if (args.rtol is not None and not args.rtol >= 0) or (args.atol is not None and not args.atol >= 0):
        raise UsageError("--rtol and --atol must be zero or positive")
    device = resolve_device(args.device)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    rtol = args.rtol if args.rtol is not None else (1e-6 if dtype == torch.float64 else 1e-4)
    atol = args.atol if args.atol is not None else (1e-9 if dtype == torch.float64 else 1e-6)
    student = load_functions(args.impl or default_impl())
    data = load_task(args.task, seed=args.seed, n_train=max(args.batch_size, 1), n_val=1,
                     data_dir=args.data_dir, download=args.download)
    x = data.x_train[: args.batch_size].to(device=device, dtype=dtype)
    y = data.y_train[: args.batch_size].to(device)
    if not data.is_classification:
        y = y.to(dtype)

    nets = {}
    for name, fns in (("expected", torch_functions()), ("actual", student)):
        nets[name] = build_network(fns, args.model, data.num_inputs, data.num_outputs, hidden, args.activation,
                                   seed=args.seed + 1).to(device=device, dtype=dtype)
    ez, ea = _trace(nets["expected"], x)
    eloss = nets["expected"].loss(ez[-1], y, data.is_classification)
    eloss.backward()
    try:
        calls, az, aa, aloss = _forward_calls(nets["actual"], x, y, data.is_classification)
    except Exception as err:  # the student's forward: nothing to compare without its values
        raise _student_error(student, err, "actual") from None
    act_fn = "ReLU" if args.activation == "relu" else "Sigmoid"
    loss_fn = "CrossEntropy" if data.is_classification else "SquaredError"
    n_layers = len(ez)
    forward: list[Check] = []

    def add(bucket: list[Check], where: str, culprit: str, e, a) -> None:
        ok, detail = compare_tensors(e, a, rtol, atol)
        bucket.append(Check(where, culprit, ok, detail))

    # the forward values are compared before any backward runs (a backward may write into them)
    for k in range(n_layers):
        add(forward, f"layer{k + 1} output z{k + 1} = a{k} W{k + 1}ᵀ + b{k + 1}", "Linear.forward", ez[k], az[k])
        if k < n_layers - 1:
            add(forward, f"layer{k + 1} activation a{k + 1} = {act_fn}(z{k + 1})", f"{act_fn}.forward", ea[k + 1], aa[k + 1])
    add(forward, f"loss J = {loss_fn}(z{n_layers}, y)", f"{loss_fn}.forward", eloss, aloss)
    grads, failure, in_place = _direct_backward(calls, aloss)
    if failure is not None:
        failure = describe_failure(student, failure, fallback=True)

    # (stage, where, culprit, expected, key of the actual gradient) in the order backpropagation computes them
    enets = nets["expected"].layers
    steps = [("loss", f"dJ/dz{n_layers} (gradient of the loss w.r.t. the network output)", f"{loss_fn}.backward",
              ez[-1].grad, ("z", n_layers))]
    for k in range(n_layers - 1, -1, -1):
        layer = f"layer{k + 1}"
        steps.append((layer, f"{layer} bias gradient dJ/db{k + 1}", "Linear.backward (grad_bias)",
                      enets[k].bias.grad, ("b", k + 1)))
        steps.append((layer, f"{layer} weight gradient dJ/dW{k + 1}", "Linear.backward (grad_weight)",
                      enets[k].weight.grad, ("W", k + 1)))
        if k > 0:
            steps.append((layer, f"{layer} input gradient dJ/da{k}", "Linear.backward (grad_x)", ea[k].grad,
                          ("a", k)))
            steps.append((f"layer{k}", f"layer{k} dJ/dz{k} through {act_fn}", f"{act_fn}.backward",
                          ez[k - 1].grad, ("z", k)))
    backward = _backward_checks(steps, grads, failure, rtol, atol, hints=_hints(act_fn, az, aa, grads),
                                in_place=in_place)

    sizes = "-".join(str(s) for s in nets["actual"].sizes)
    header = (f"comparing {student.source or student.name} with torch's built-ins: {args.task}, {args.model} {sizes} "
              f"{args.activation}, one batch of {len(x)}, {args.dtype} on {device}, seed {args.seed}, "
              f"rtol {rtol:g} atol {atol:g}")
    return forward, backward, header


def _student_error(student, err: Exception, side: str) -> Exception:
    """A one-line CourseError for an exception from the student's side; torch's side re-raises."""
    from course_nn.errors import CourseError
    from course_nn.impl import describe_failure

    failure = describe_failure(student, err, fallback=True) if side == "actual" else None
    return err if failure is None else CourseError(failure.line)


def _backward_checks(steps: list[tuple], grads: dict, failure, rtol: float, atol: float,
                     hints: dict[str, str] | None = None, in_place: dict[tuple, str] | None = None) -> list[Check]:
    """Compare the gradients in backpropagation order. When the student's backward raised
    (``failure``), the first gradient it never produced becomes a difference carrying the error,
    and the comparison stops there (everything after it is missing for the same reason). A
    backward that wrote into what it was given (``in_place``, keyed by the first gradient it
    returned) is a difference of its own, just before its gradients."""
    checks = []
    for stage, where, culprit, expected, key in steps:
        actual = grads.get(key)
        if key in (in_place or {}):
            owner = in_place[key].split(":", 1)[0]
            checks.append(Check(f"{stage} {owner} leaves what it was given unchanged", owner, False, in_place[key]))
        if failure is not None and actual is None:
            checks.append(Check(f"{stage} backward raised an error", failure.owner or culprit, False, failure.line))
            return checks
        ok, detail = compare_tensors(expected, actual, rtol, atol)
        hint = (hints or {}).get(culprit) or (_shape_hint(culprit, expected, actual) if detail.startswith("shape")
                                              else None)
        if not ok and hint:
            detail += f" — {hint}"
        checks.append(Check(where, culprit, ok, detail))
    if failure is not None:  # every gradient arrived, yet backward still failed (e.g. for the input)
        checks.append(Check("backward raised an error", failure.owner or "the backward pass", False, failure.line))
    return checks
