"""Scoring one hw1 Function: every case checked, one Outcome per category."""

from __future__ import annotations

import re

from course_nn.grading.cases import conform
from course_nn.grading.hw1.checks import (
    check_backward,
    check_edge,
    check_forward,
    check_gradcheck,
    error_text,
    not_implemented_text,
)
from course_nn.grading.hw1.compliance import case_signs, check_compliance
from course_nn.grading.hw1.hints import _LazyHints
from course_nn.grading.hw1.schema import result_schema
from course_nn.grading.hw1.specs import SPECS
from course_nn.grading.outcome import TIP, Outcome, failures_then_tips, is_tip, unrunnable
from course_nn.registry import Assignment, Task


def _not_implemented(results: list[tuple[dict, dict]]) -> str | None:
    """The first "not implemented" line (its text from a visible case only)."""
    for case, r in sorted(results, key=lambda cr: not cr[0].get("visible")):
        records = [(r.get("direct") or {}, "forward"), (r.get("direct") or {}, "backward"), (r.get("gradcheck") or {}, "")]
        for rec, stage in records:
            message = rec.get(f"error_{stage}" if stage else "error") or ""
            exc = rec.get(f"exc_{stage}" if stage else "exc") or ""
            if "meta tensor" in message:  # torch's NotImplementedError for a meta tensor's data, not the stub's
                continue
            if exc == "NotImplementedError" or (not exc and "NotImplementedError" in message):
                return not_implemented_text(case["task"], stage or "forward", message, case)
    return None


def _unreadable(task: str, case: dict, r: dict) -> list[str]:
    """A result the probes did not produce (missing, malformed): the case fails with a reason."""
    error = r.get("error") if isinstance(r, dict) else None
    if error and r.get("stage") == "probe":  # an exception that escaped the probe: student text
        return [error_text(task, "forward/backward", str(error), case)]
    return [f"{task} [{case['label']}]: " + (str(error) if error else "no usable result came back for this case")]


_EXTRA_GRADIENT = re.compile(r"^" + re.escape(TIP) + r"(\w+)\.backward returned a gradient for `(\w+)` although ")


def _merge_extra_gradient_tips(lines: list[str]) -> list[str]:
    """One tip for every input that got a gradient it did not need (the contract draws each combination,
    so a backward that ignores needs_input_grad would otherwise get one tip per input, cut at two)."""
    found = [(m.group(2), line) for line in dict.fromkeys(lines) if (m := _EXTRA_GRADIENT.match(line))]
    if len(found) < 2:
        return lines
    order = SPECS[_EXTRA_GRADIENT.match(found[0][1]).group(1)].input_names
    names = sorted(dict.fromkeys(n for n, _ in found), key=lambda n: order.index(n) if n in order else len(order))
    first = next(line for n, line in found if n == names[0])
    head, sep, tail = first.partition(" — allowed")
    merged = head + (f" (and for {', '.join(f'`{n}`' for n in names[1:])} likewise)" if len(names) > 1 else "") + sep + tail
    kept = [line for line in lines if not _EXTRA_GRADIENT.match(line)]
    return kept + [merged]


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
    return passed / len(results), failures_then_tips(_merge_extra_gradient_tips(lines))


def _measured(task: str, checker):
    """``checker``, except that a case whose own call shows a sure sign of numerical differentiation fails."""
    def check(case: dict, r: dict) -> list[str]:
        line = case_signs(task, case, r)
        return [line] if line else checker(case, r)
    return check


def score_task(assignment: Assignment, task: Task, cases: list[dict], results: list[dict] | None,
               failure: str | None) -> list[Outcome]:
    """One Outcome per category for one Function."""
    keys = [c.key for c in assignment.categories]
    refused: list[str] = []
    if results is not None:  # every field checked before anything below (unrunnable included) reads it
        results, refused = conform(cases, results, result_schema)
    early = unrunnable(assignment, task, results, failure, "class")
    if early is not None:
        return early
    pairs = list(zip(cases, results))
    nie = _not_implemented(pairs)
    by_kind = {kind: [(c, r) for c, r in pairs if c["kind"] == kind] for kind in ("main", "edge", "gradcheck")}
    name = task.name
    hints = _LazyHints(name, pairs)
    fwd = _fraction(by_kind["main"], lambda c, r: check_forward(name, c, r, hints))
    bwd = _fraction(by_kind["main"], _measured(name, lambda c, r: check_backward(name, c, r, hints)))
    gc = _fraction(by_kind["gradcheck"], _measured(name, lambda c, r: check_gradcheck(name, c, r)))
    edge = _fraction(by_kind["edge"], _measured(name, lambda c, r: check_edge(name, c, r, hints)))
    comp, forward_broke_rules = check_compliance(task, pairs)
    gated = set(assignment.gated_by_compliance) | ({"forward"} if forward_broke_rules else set())
    ran = any(isinstance(r.get("direct"), dict) and r["direct"].get("out") is not None
              and not r["direct"]["error_forward"] and not r["direct"]["error_backward"] for r in results)
    if not ran and not comp:
        first = ([ln for ln in fwd[1] + bwd[1] if not is_tip(ln)] + ["see the other checks"])[0]
        comp = [f"{name} never ran forward and backward to the end, so it cannot be checked: {first}"]
    if nie:
        comp = [nie]
    # The rules, gradcheck and the edge cases credit hand-written work that computes the Function: one
    # that gets no main case right (zeros out, None back, x·1e-30 forward with g·1e-30 back) did none, so
    # following the rules, a backward that agrees with such a forward, or a zero that happens to be right at
    # an edge, earns nothing either.
    idle = [] if comp or fwd[0] > 0 or bwd[0] > 0 else [
        f"{name} gets no forward or backward case right yet, so there is no hand-written work to credit: "
        "make forward match first (see the forward check)"]
    if idle:
        gc, edge = (0.0, idle + gc[1]), (0.0, idle + edge[1])
    scores = {"forward": fwd, "backward": bwd, "gradcheck": gc, "edge": edge,
              "compliance": (0.0 if comp or idle else 1.0, comp or idle)}
    outcomes = []
    for k in keys:
        frac, lines = scores[k]
        if nie and frac < 1.0:
            lines = [nie] + [ln for ln in lines if "not implemented" not in ln]
        if comp and not nie and k in gated:  # say why, even where the checks already gave 0
            frac, lines = 0.0, [f"no credit: {comp[0]}"] + lines
        outcomes.append(Outcome(name, k, frac, lines, refused if k == "compliance" else []))
    return outcomes
