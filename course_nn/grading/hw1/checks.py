"""Checking one case: forward against torch's built-in, backward called directly, the edge cases and
the split gradcheck. Each check returns the problems of one case as lines a student reads."""

from __future__ import annotations

import math

import torch

from course_nn.grading import feedback  # in-place wording: compare and trace say it alike
from course_nn.grading.feedback import Mismatch, index_text, likely, mismatch, shape_text, value_text
from course_nn.grading.hw1.cases import reference_slopes
from course_nn.grading.hw1.hints import forward_hint, grad_hint, shape_hint
from course_nn.grading.hw1.specs import SPECS, differentiable, reference, reference_grads
from course_nn.grading.outcome import TIP, case_error

TOL = {torch.float64: (1e-6, 1e-9), torch.float32: (1e-4, 1e-5)}  # (rtol, atol) per dtype
GC_TOL = (1e-3, 1e-5)  # gradcheck's own defaults: (rtol, atol)
AUTOGRAD_ERRORS = ("does not require grad", "does not have a grad_fn", "Inference tensors",
                   "inference_mode", "element 0 of tensors")



def compare(actual: torch.Tensor, expected: torch.Tensor, dtype, tol=None) -> Mismatch | None:
    """None when close enough for ``dtype`` (or the case's own ``tol``: (rtol, atol), or (rtol, atol, atol
    per unit of the largest |expected|) for a precision case); otherwise the worst entry."""
    rtol, atol, *scaled = tol if tol is not None else TOL.get(dtype, TOL[torch.float32])
    if scaled and expected.numel():  # entries near 0 next to large ones: rounding of the large ones' size
        atol += scaled[0] * float(expected.detach().abs().max())
    return mismatch(actual, expected, rtol, atol)


NUMERICAL = ("on these inputs only the derivative's formula is accurate to float64: a finite-difference "
             "(numerical) derivative is off here — derive the formula and code it")
PRECISE = 1e-10  # a case whose relative tolerance is tighter: float64 at moderate inputs (a precision case)


def precision_hint(name: str, m: Mismatch, visible: bool) -> str:
    """What a precision case says when the gradient is close but not float64-exact (a numerical one)."""
    digits = f" (expected {m.expected:.17g}, got {m.actual:.17g})" if visible else ""
    return (f"your gradient for `{name}` is off by ~{m.rel_err:.0e} relative{digits} — typical of a numerical "
            "(finite-difference) derivative; the derivative's formula is exact to a few units in the last "
            "place of float64 here: derive it and code it")


def _where(case: dict) -> str:
    return f"[{case['label']}]"


META_HINT = "a shape and a dtype but no data — return a real tensor on the input's device"


def not_implemented_text(task: str, where: str, message: str, case: dict | None) -> str:
    text = message.split("NotImplementedError:", 1)[-1].split(" (line ", 1)[0].strip()
    if case is not None and not case.get("visible"):
        text = ""  # a hidden case's message is never shown
    return "not implemented: " + (text or f"{task}.{where} raised NotImplementedError")


def error_text(task: str, where: str, message: str, case: dict | None = None, exc: str = "") -> str:
    """An exception from the student's code, naming the case (its message only on visible cases)."""
    meta = "meta tensor" in message  # torch's NotImplementedError for a meta tensor's data: not the stub's
    if not meta and (exc == "NotImplementedError" or (not exc and "NotImplementedError" in message)):
        return not_implemented_text(task, where, message, case)
    hint = ("a tensor on the meta device has " + META_HINT) if meta else \
        next((h for text, h in SPECS[task].error_hints if text in message), "") or general_error_hint(message, case)
    if any(s in message for s in AUTOGRAD_ERRORS) and where == "backward":
        hint = "backward must compute the gradient by hand from saved tensors, without autograd"
    if case is None:
        return f"{task}.{where} raised {message}" + likely(hint)
    return case_error(f"{task}.{where}", case, message, exc) + likely(hint)


UNBOUND = ("a gradient is assigned only inside an `if`: start from `grad_x = grad_w = ... = None` and fill in "
           "what ctx.needs_input_grad asks for, so every name exists whichever inputs need a gradient")


def general_error_hint(message: str, case: dict | None) -> str:
    """The likely mistake behind an exception any Function can raise ("" when none is known)."""
    if "cannot access local variable" in message or "referenced before assignment" in message:
        return UNBOUND
    first = case["inputs"][0] if case is not None and case.get("inputs") else None
    if not isinstance(first, torch.Tensor) or first.dim() == 2:
        return ""
    if "values to unpack (expected 2" in message:
        return (f"this case's inputs are {first.dim()}-dimensional, and the Function takes any shape: use "
                "x.numel() (or sizes that do not assume 2-D) instead of unpacking x.shape")
    if "tuple index out of range" in message and first.dim() == 0:
        return "this case's inputs are 0-dimensional (shape ()), so x.shape[0] does not exist: use x.numel()"
    return ""


def type_text(kind: str, visible: bool) -> str:
    """How to name a returned value's type ("a float", "a tensor subclass") for feedback."""
    if kind.startswith("subclass:"):
        return "a tensor subclass" + (f" ({kind[9:]})" if visible else "") + " — return a plain torch.Tensor"
    if kind == "meta tensor":  # probe_hw1.META
        return f"a tensor on the meta device ({META_HINT})"
    if kind == "None":
        return "None"
    return f"a {kind}" if visible else "something that is not a tensor"



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
        text = error_text(task, "forward", d["error_forward"], case, d.get("exc_forward", ""))
        if "not implemented" not in text and "likely mistake" not in text:
            text += SPECS[task].raise_hint(case)
        return [text]
    out = d["out"]
    if out is None:
        kind = d.get("out_type") or "None"
        return [f"{task}.forward {where}: returned {type_text(kind, case['visible'])}"
                + ("" if kind.startswith("subclass:") or kind == "meta tensor" else ", expected a tensor")]
    ref = case.get("_ref_out")
    if ref is None:
        ref = reference(task, [x.double() if differentiable(x) else x for x in case["inputs"]])
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
    m = compare(out, ref, dtype, case.get("tol"))
    if m:
        hint = forward_hint(task, case, out, ref, (hints or {}).get("out"))
        problems.append(f"{task}.forward {where}: output{index_text(m.index)} {value_text(m, case['visible'])}"
                        + (f"; likely mistake: {hint}" if hint else ""))
    for i, (before, changed) in enumerate(zip(case["inputs"], d.get("changed_forward") or [])):
        if isinstance(before, torch.Tensor) and changed:  # the child compared (see probe_hw1._changed)
            problems.append(f"{task}.forward {where}: modified its input `{SPECS[task].input_names[i]}` in place "
                            "(e.g. clamp_, +=, [...] = ); compute a new tensor instead")
    return problems



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
        why = "integer class indices (ctx.needs_input_grad is False)" if not differentiable(x) else \
            f"ctx.needs_input_grad[{i}] is False"
        return (f"{TIP}{task}.backward returned a gradient for `{name}` although {why} — allowed (autograd "
                "drops it), but you could skip that work and return None")
    if kind != "Tensor":
        if kind == "None":
            return (f"{task}.backward {where}: returned None for `{name}`, which needs a gradient "
                    f"(ctx.needs_input_grad[{i}] is True)")
        return f"{task}.backward {where}: returned {type_text(kind, case['visible'])} for `{name}`"
    if tuple(got.shape) != tuple(x.shape):
        return (f"{task}.backward {where}: gradient for `{name}` has shape {shape_text(got)}, "
                f"expected {shape_text(x)} like `{name}` — {shape_hint(task, name, got, x)}")
    dtype = getattr(torch, case["dtype"].split(".")[-1])
    problems = []
    if got.dtype != dtype:
        problems.append(f"gradient for `{name}` is {got.dtype}, expected {dtype} — avoid hard-coded dtypes; "
                        "build new tensors with zeros_like / new_ones")
    want = SPECS[task].accept(case, got, want)
    m = compare(got, want, dtype, case.get("tol"))
    if m:
        hint = grad_hint(task, name, case, got, want, i, (hints or {}).get(name))
        if case.get("accuracy") and not hint:
            precise = case["tol"][0] < PRECISE if case.get("tol") else False
            hint = NUMERICAL if not precise else precision_hint(name, m, case["visible"]) if m.rel_err < 1e-6 else ""
        problems.append(f"dJ/d{name}{index_text(m.index)} {value_text(m, case['visible'])}"
                        + (f"; likely mistake: {hint}" if hint else ""))
    return f"{task}.backward {where}: " + "; ".join(problems) if problems else None


def check_backward(task: str, case: dict, r: dict, hints: dict | None = None) -> list[str]:
    """Problems with the directly-called backward of one case (empty when it is right; tips cost nothing)."""
    d = _direct(r)
    where = _where(case)
    if d["error_forward"]:
        return [error_text(task, "forward", d["error_forward"], case, d.get("exc_forward", ""))
                + " (backward not tested)"]
    if d["out"] is None:
        return [f"{task}.forward {where}: did not return a plain torch.Tensor (backward not tested)"]
    if d["error_backward"]:
        return [error_text(task, "backward", d["error_backward"], case, d.get("exc_backward", ""))]
    names = SPECS[task].input_names
    inputs = case["inputs"]
    if d["n_grads"] != len(inputs):
        return [f"{task}.backward {where}: returned {d['n_grads']} value(s) but forward takes {len(inputs)} "
                f"inputs ({', '.join(names)}): return one gradient per input, None where there is none"]
    refs = case.get("_ref_grads") or reference_grads(task, inputs, case["needs"], case["grad_output"])
    problems = [p for i, (got, want) in enumerate(zip(d["grads"], refs))
                if (p := _grad_problem(task, case, d, i, got, want, hints))]
    if d.get("grad_output_changed"):  # the child compared (see probe_hw1._changed)
        problems.append(f"{task}.backward {where}: {feedback.GRAD_OUTPUT_IN_PLACE}")
    for i, (before, changed) in enumerate(zip(inputs, d.get("changed_backward") or [])):
        if isinstance(before, torch.Tensor) and changed:
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


def _gradcheck_error(num: float, ana: float, diff: float, rtol: float, atol: float) -> str:
    if not math.isfinite(num):
        return "your forward gives NaN or inf beside this point, so its slope cannot be measured"
    if not math.isfinite(ana):
        return "your backward gives NaN or inf here"
    return (f"relative error {diff / abs(num):.1e} (tolerance {rtol:g})" if abs(num) > atol
            else f"absolute error {diff:.1e} where about 0 is expected (tolerance {atol:g})")


def _element(task: str, case: dict, i: int, j: int) -> str:
    """Input ``i``'s flat element ``j`` as a student reads it: `x[1, 2]`."""
    in_idx = tuple(int(t) for t in torch.unravel_index(torch.tensor(j), case["inputs"][i].shape))
    return f"{SPECS[task].input_names[i]}{index_text(in_idx)}"


def _slopes_off(task: str, case: dict, numeric: torch.Tensor, rtol: float, atol: float) -> list[str]:
    """Backward agrees with forward's own finite differences; those must be the true slopes too. Else a
    forward that remembers its calls could fake its values near the points to match any backward (zeros).
    ``numeric`` has the reference's shape (check_gradcheck checked its outputs against the upstream's)."""
    if "_ref_slopes" not in case:  # in-process grading has no precompute: once per case, not per check
        case["_ref_slopes"] = reference_slopes(task, case)
    ref = case["_ref_slopes"]
    bad = ~((numeric - ref).abs() <= atol + rtol * ref.abs())
    if not bool(bad.any()):
        return []
    p, k = (int(t) for t in bad.nonzero()[0])
    i, j = case["points"][p].tolist()
    values = (f"finite differences of your forward give {float(numeric[p, k]):.6g}, the true slope is "
              f"{float(ref[p, k]):.6g} — " if case["visible"] else "")
    return [f"{task}: gradcheck [{case['label']}]: ∂out[{k}]/∂{_element(task, case, i, j)}: {values}your backward "
            "agrees with your forward, but your forward's slope here is not the function's: check forward's "
            "formula, and that forward's output depends only on its inputs (nothing kept from an earlier call)"]


def check_gradcheck(task: str, case: dict, r: dict) -> list[str]:
    """The split gradcheck: finite differences of the child's own forward values, done here, against the
    gradients backward returned for the case's random upstream gradient g (a vector–Jacobian product, as
    torch's fast gradcheck compares): for each input element, ∂(g·out)/∂x."""
    d, gc = _direct(r), r["gradcheck"]
    for error, exc, stage in ((d["error_forward"], d.get("exc_forward", ""), "forward"),
                              (d["error_backward"], d.get("exc_backward", ""), "backward"),
                              (gc.get("error"), gc.get("exc", ""), "forward")):
        if error:
            return [error_text(task, stage, error, case, exc) + " (during gradcheck)"]
    names = SPECS[task].input_names
    points = case["points"].tolist()
    plus, minus = gc.get("plus"), gc.get("minus")
    if plus is None or minus is None or len(plus) != len(points) or d["out"] is None:
        return [f"{task}: gradcheck got no forward values"]
    numeric = (plus.double() - minus.double()) / (2 * case["eps"])  # (points, n_out)
    upstream = case["grad_output"].double().reshape(-1)
    if numeric.shape[-1] != upstream.numel():
        return [f"{task}: gradcheck [{case['label']}]: forward returned {numeric.shape[-1]} values near the points, "
                f"expected {upstream.numel()} — see the forward check"]
    grads = d["grads"] or []
    n_inputs = len(case["inputs"])
    if any(t != "None" for t in (d.get("grad_types") or [])[n_inputs:]):  # autograd refuses them too
        return [f"{task}: gradcheck: backward returned {d['n_grads']} gradients for the {n_inputs} inputs of "
                "forward; return one per input, in forward's order (None where none is needed)"]
    rtol, atol = GC_TOL
    by_input: dict[int, list[int]] = {}  # the points of each input, in order (the case lists them input by input)
    for p, (i, _j) in enumerate(points):
        by_input.setdefault(i, []).append(p)
    for i, ps in by_input.items():  # the first point that fails, with its message
        g = grads[i] if i < len(grads) else None
        if g is None:
            return [f"{task}: gradcheck: backward returned no gradient for `{names[i]}`"]
        if g.numel() != case["inputs"][i].numel():
            want = case["inputs"][i].numel()
            per_example = g.numel() % want == 0 and g.numel() > want
            hint = (" — did you forget to sum the bias gradient over the batch?" if per_example and names[i] == "bias"
                    else f" — one gradient per example? `{names[i]}` is shared by the whole batch: sum its gradient "
                         "over dim 0" if per_example and names[i] in SPECS[task].shared else "")
            return [f"{task}: gradcheck: gradient for `{names[i]}` has {g.numel()} elements, expected {want} "
                    f"(the shape of `{names[i]}`){hint}"]
        if g.shape != case["inputs"][i].shape:  # autograd refuses it (torch's gradcheck too), however many values
            return [f"{task}: gradcheck: gradient for `{names[i]}` has shape {shape_text(g)}, expected "
                    f"{shape_text(case['inputs'][i])} (the shape of `{names[i]}`) — return it in the input's shape"]
        js = [points[p][1] for p in ps]
        ana, num = g.reshape(-1)[js].double(), numeric[ps] @ upstream
        bad = ~((ana - num).abs() <= atol + rtol * num.abs())  # a NaN or inf on either side is bad too
        if bool(bad.any()):
            k = int(bad.nonzero()[0])
            a, n = float(ana[k]), float(num[k])
            values = f"numerical {n:.6g}, analytical {a:.6g}, " if case["visible"] else ""
            return [f"{task}: gradcheck [{case['label']}]: ∂(grad_output·out)/∂{_element(task, case, i, js[k])}: "
                    f"{values}{_gradcheck_error(n, a, abs(a - n), rtol, atol)} — your backward disagrees with finite "
                    "differences of your own forward"]
    return _slopes_off(task, case, numeric, rtol, atol)
