"""Signs that autograd, a built-in or numerical differentiation did a Function's work."""

from __future__ import annotations

import torch

from course_nn.grading.hw1.checks import AUTOGRAD_ERRORS
from course_nn.grading.hw1.specs import SPECS
from course_nn.registry import Task
from course_nn.registry.hw1 import AUTOGRAD


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
                and "apply" in r and not apply.get("error")):  # it fails alone, yet works inside autograd
            problems.add(f"{task.name}.backward works only inside autograd (it failed when called directly): "
                         "compute the gradient by hand from saved tensors")
    return sorted(problems) + numerical_differentiation(task.name, results) + outside_torch(task.name, results), \
        in_forward


# ----------------------------------------------------------------------------------------------
# Numerical differentiation: the child's watch (probe_hw1._Watch) reports, per call, complex numbers,
# nudged copies of an input and how much work ran; the verdict is taken here over all the cases.

NO_CREDIT = ("a numerical derivative earns no backward, gradcheck or edge credit: derive dJ/d(input) by hand "
             "and code the formula")
GROWTH = 64  # values a backward may compute per input and output value before its work counts as grown


def _tensors(case: dict) -> list[torch.Tensor]:
    return [x for x in case["inputs"] if isinstance(x, torch.Tensor) and x.is_floating_point()]


def _watched(case: dict) -> bool:
    """Whether the child could see a nudged copy of this case's inputs (it watches those of 2+ elements)."""
    return any(x.numel() >= 2 for x in _tensors(case))


def _grew(case: dict, d: dict) -> bool:
    """A backward that runs at least one op per input element and computes far more values than its
    inputs and output hold — about numel² for a loop that evaluates the Function once per element. A
    vectorised backward, a loop over rows and an analytic loop over elements all stay far below."""
    w = d["watch_backward"]
    sizes = [x.numel() for x in _tensors(case)]
    out = d["out"].numel() if isinstance(d.get("out"), torch.Tensor) else 0
    big = max(sizes, default=0)
    return big >= 8 and w["ops"] >= big and w["produced"] > max(GROWTH * (sum(sizes) + out), big * big / 2)


def case_signs(task: str, case: dict, r: dict) -> str:
    """One line when this one case's call shows a sign no honest backward makes (complex numbers, work that
    grows like numel²), else '': that case earns nothing whatever the verdict over the cases. Nudged copies
    and values crossing torch's border are judged over the cases of each kind (numerical_differentiation,
    outside_torch): honest code makes one now and then, in an edge case's structured inputs most."""
    d = r.get("direct")
    if not isinstance(d, dict) or not d.get("watch_backward"):
        return ""
    where = f"{task} [{case['label']}]"
    if any(w["complex"] for w in (d.get("watch_forward"), d["watch_backward"]) if w):
        return f"{where}: computes with complex numbers (a complex-step derivative); {NO_CREDIT}"
    if _grew(case, d):
        return f"{where}: re-evaluates the Function once per input element (finite differences); {NO_CREDIT}"
    return ""


def _most(counts: dict[str, list[int]]) -> list[int]:
    """The [watched, flagged] of the kind of case (random, edge, gradcheck) that most condemns: a file that
    measures its derivative only where it can tell the calls apart (gradcheck's, the edge cases after it) is
    judged on those as a file that always does is on all of them; honest code's rare flag stays a minority."""
    return max(counts.values(), key=lambda c: (c[0] >= 3 and 2 * c[1] >= c[0], c[1]), default=[0, 0])


def numerical_differentiation(task: str, results: list[tuple[dict, dict]]) -> list[str]:
    """One line when the Function differentiates numerically (else none): complex numbers in a real
    Function (complex step), a nudged copy of an input in most cases (finite differences, Richardson),
    or work that grows like numel² with one op per element (finite differences at any step size)."""
    names = SPECS[task].input_names
    counts: dict[str, list[int]] = {}  # per kind of case (random, edge, gradcheck): [watched, nudged]
    nudged_inputs: set[str] = set()
    complex_step = grown = False
    for case, r in results:
        d = r.get("direct")
        if not isinstance(d, dict) or "watch_backward" not in d:
            continue
        watches = [w for w in (d.get("watch_forward"), d["watch_backward"]) if w]
        complex_step |= any(w["complex"] for w in watches)
        grown |= _grew(case, d)
        if _watched(case):
            hits = {names[i] for w in watches for i in w["perturbed"] if i < len(names)}
            count = counts.setdefault(case["kind"], [0, 0])
            count[0] += 1
            count[1] += bool(hits)
            nudged_inputs |= hits
    watched, nudged = _most(counts)
    if complex_step:
        why = "it computes with complex numbers (a complex-step derivative, Im f(x + ih) / h)"
    elif watched >= 3 and 2 * nudged >= watched:
        listed = ", ".join(f"`{n}`" for n in sorted(nudged_inputs, key=names.index))
        why = (f"it evaluates the Function at nudged copies of {listed} (finite differences, f(x ± h)) "
               f"in {nudged} of {watched} cases")
    elif grown:
        why = "its work grows with the number of input elements: it re-evaluates the Function once per element"
    else:
        return []
    return [f"{task} differentiates numerically — {why}; {NO_CREDIT}"]


# ----------------------------------------------------------------------------------------------
# Outside torch: arithmetic in numpy or on Python numbers reaches no recorder, so a numerical derivative
# there could not be told from a formula. What the child sees is the border: values backward takes out,
# values it brings in (from numpy arrays, lists or many Python numbers), and gradients built from values
# forward brought in (forward's output itself may be computed in numpy). The rule (handout rule 2): the
# gradient is computed with tensor operations; a backward that crosses the border with its inputs' worth
# of values in half or more of the watched cases earns no backward, gradcheck or edge credit.

OUTSIDE_NO_CREDIT = ("the grader can only check a derivative computed with tensor operations (one in numpy or "
                     "on Python numbers could be a numerical derivative), so it earns no backward, gradcheck or "
                     "edge credit: write the gradient with torch operations on the saved tensors and grad_output "
                     "(numpy in forward is fine)")


QUESTIONS = 8  # yes/no reads (`if x[i] > 0`) per element: an element loop asks one or two, bit by bit dozens


def _differentiable(case: dict) -> int:
    """Elements of the floating inputs this case differentiates (those that need a gradient)."""
    needs = list(case.get("needs") or [])
    return sum(x.numel() for i, x in enumerate(case["inputs"]) if isinstance(x, torch.Tensor)
               and x.is_floating_point() and (needs[i] if i < len(needs) else True))


def _crossings(case: dict, w: dict) -> list[str]:
    """How one watched backward computed its gradient outside torch (empty when it did not)."""
    enough = max(2, _differentiable(case))
    ways = []
    left, came = w.get("left_torch"), w.get("entered_torch") or {}
    if left and left["elements"] >= enough:
        ways.append("it takes its values out of torch (" + ", ".join(f"`.{m}()`" for m in left["ways"]) + ")")
    if left and left.get("questions", 0) >= QUESTIONS * enough:
        ways.append("it reads its values out of torch one yes/no question at a time (`if` on tensor elements)")
    if came.get("elements", 0) >= enough:
        ways.append("it brings values computed outside torch into its gradient (`torch.tensor`, "
                    "`torch.from_numpy`, ...)")
    if came.get("numbers", 0) >= max(8, enough):
        ways.append("it hands torch its values one Python number at a time (as many different numbers as "
                    "its input has elements)")
    if came.get("tainted_grads", 0) and not ways:
        ways.append("the gradient it returns is built from values forward brought in from numpy or Python "
                    "(other than forward's output)")
    return ways


def outside_torch(task: str, results: list[tuple[dict, dict]]) -> list[str]:
    """One line when backward computed its gradient outside torch in half or more of the watched cases.
    The watched cases have an input of 2+ elements, so a 0-dim grad_output.item() never counts."""
    counts: dict[str, list[int]] = {}  # per kind of case, as numerical_differentiation: [watched, outside]
    ways: list[str] = []
    for case, r in results:
        d = r.get("direct")
        w = d.get("watch_backward") if isinstance(d, dict) else None
        if not w or not _watched(case):
            continue
        found = _crossings(case, w)
        count = counts.setdefault(case["kind"], [0, 0])
        count[0] += 1
        count[1] += bool(found)
        ways += [way for way in found if way not in ways]
    watched, outside = _most(counts)
    if not outside or 2 * outside < watched:
        return []
    return [f"{task}.backward computes its gradient outside torch in {outside} of {watched} cases — "
            f"{'; '.join(ways)}; {OUTSIDE_NO_CREDIT}"]
