"""Credit the static gate withholds: a line that could reach the grader zeroes every check of every task; a
torch built-in that computes what a Function implements (seen by the gate or by the child's recorders) costs
that Function its compliance and gated checks."""

from __future__ import annotations

from course_nn.grading import review
from course_nn.grading.outcome import Outcome
from course_nn.registry import Assignment

GATE_LINES = 100  # offending lines listed per row (a file can hold thousands; feedback stays readable)
IMPORT_FAILED = "your file could not be imported: "  # followed by the file's own error text


def _recorded_ops(task_results: list | None, key: str = "ops") -> set[str]:
    """Every op the child's recorders saw running one task's cases (``ops_forward``: in its forward)."""
    ops: set[str] = set()
    for r in task_results or []:
        direct = (r.get("direct") or r.get("stub")) if isinstance(r, dict) else None
        if isinstance(direct, dict) and isinstance(direct.get(key), list):
            ops.update(str(op) for op in direct[key])
    return ops


def apply(assignment: Assignment, outcomes: list[Outcome], verdict: review.Verdict,
                results: dict[str, list], failures: dict[str, str]) -> None:
    """Withhold credit the static gate (and the aten-level recorder) says was not earned by hand. A line
    that could reach the grader zeroes every check, and no line the run produced is shown (it may carry
    what that line read), only the grader's own finding if it stopped the run (a limit, an exit status).
    A shortcut costs its Function compliance and gated credit (forward's too when it sits in forward)."""
    escapes = [v.text() for v in verdict.escapes][:GATE_LINES]
    count = len(verdict.escapes)
    more = f" (and {count - 1} more line(s) below: fix them all, then resubmit)" if count > 1 else ""
    # task -> what its runs' recorders saw: a built-in costs the Function that ran it (review.Verdict.shortcuts)
    seen = {t.name: review.recorded(_recorded_ops(results.get(t.name))) for t in assignment.tasks}
    charges = {} if escapes else {t.name: _charges(assignment, t, verdict, results.get(t.name), seen)
                                  for t in assignment.tasks}
    told: set[str] = set()  # tasks whose stopped run is named once, in their first row
    for o in outcomes:
        if escapes:  # every offending line, in every row it zeroes: one resubmission fixes them all
            head = "your file breaks a rule of graded code, so no check of any task earns credit"
            head = head if o.category == "compliance" else f"no credit: {head}"
            o.lines = [f"{head}{more}: {escapes[0]}", *escapes[1:]]  # not what the run showed (see above)
            if (found := failures.get(o.task, "")) and not found.startswith(IMPORT_FAILED) and o.task not in told:
                o.lines.append(f"also: {found}")  # an import error quotes the file: not shown
                told.add(o.task)
            o.fraction = 0.0
            continue
        texts, gated = charges[o.task]
        if texts and o.category in gated:
            if o.category == "compliance":
                o.lines = texts + [ln for ln in o.lines if ln not in texts][:2]
            elif o.fraction > 0:
                o.lines = [f"no credit: {texts[0]}", *texts[1:]] + o.lines
            o.fraction = 0.0


def _charges(assignment: Assignment, task, verdict: review.Verdict, task_results: list | None,
             seen: dict) -> tuple[list[str], set[str]]:
    """One task's shortcut lines (the gate's and its runs') and the categories they cost it."""
    shortcuts = verdict.shortcuts(task, seen)
    runtime = review.runtime_shortcuts(task, _recorded_ops(task_results), verdict.all_ops)
    texts = [f"{task.name}: {v.text()}" for v in shortcuts] + sorted(set(runtime))
    gated = set(assignment.gated_by_compliance) | {"compliance"}
    in_forward = review.recorded(_recorded_ops(task_results, "ops_forward"))
    if any(verdict.in_forward(task, v) for v in shortcuts) or in_forward & review.banned_at_runtime(task, verdict.all_ops):
        gated.add("forward")
    return texts, gated
