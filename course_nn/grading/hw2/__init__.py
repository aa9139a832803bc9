"""hw2 on the parent side: choose the inputs, compute what is expected with torch, score.

The child (``child/probe_hw2.py``) only reports what the submission returned; every expected value
is computed here. The grader follows the handout: ``perceptron`` (tasks 1–4), ``approximation``
(5–7), ``mlp`` (8–10) and ``features`` (11) each keep a task's cases, reference, check and hints together, and
``GRADERS`` below is the one table of them. This module is the plugin the registry names
(``grading/plugin.py``): it makes the cases and scores each task. Hidden cases come from a secret
seed and their feedback never prints expected values.

Categories (see ``course_nn/registry/hw2.py``): the share of "main" cases that pass, the share of
"edge" cases (edge inputs, the lecture's examples, training end to end) that pass, and the
contract (types, shapes, inputs unchanged, the MLP calls the supplied Functions). Each category
has visible cases (the public tests) and hidden ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from course_nn.grading.cases import conform, streams
from course_nn.grading.feedback import likely
from course_nn.grading.hw2 import approximation, features, mlp, perceptron
from course_nn.grading.hw2.common import Cases, Check
from course_nn.grading.hw2.schema import result_schema
from course_nn.grading.outcome import Outcome, case_error, unrunnable
from course_nn.registry import Assignment, Task

PROBE = "probe_hw2"


@dataclass(frozen=True)
class TaskGrader:
    """How one task is graded: its cases for one seed, the check of one case, hints for exceptions."""

    # (generator, visible) -> the cases; the visible ones are a subset of the same recipes as the hidden ones
    cases: Callable[[torch.Generator, bool], Cases]
    check: Callable[[dict, dict], Check]  # (case, result) -> (problems, contract problems)
    error_hints: tuple[tuple[str, str], ...] = ()  # (text in an exception's message, likely mistake)
    kind: str = "function"  # what the submission defines under the task's name (said when it is missing)
    # (case, result) -> the share of a failing case's credit it still earns (None: a failing case earns 0)
    credit: Callable[[dict, dict], float] | None = None


GRADERS: dict[str, TaskGrader] = {
    "count_parameters": TaskGrader(perceptron.cases_count, perceptron.check_count),
    "perceptron_predict": TaskGrader(perceptron.cases_predict, perceptron.check_predict, perceptron.PREDICT_ERRORS),
    "perceptron_train": TaskGrader(perceptron.cases_train, perceptron.check_train),
    "xor_perceptrons": TaskGrader(perceptron.cases_xor, perceptron.check_xor),
    "relu_interpolant": TaskGrader(approximation.cases_relu, approximation.check_relu),
    "step_approximation": TaskGrader(approximation.cases_step, approximation.check_step),
    "collapse_linear": TaskGrader(approximation.cases_collapse, approximation.check_collapse,
                                  approximation.COLLAPSE_ERRORS),
    "MLP": TaskGrader(mlp.cases_mlp, mlp.check_mlp, mlp.MLP_ERRORS, kind="class"),
    "sgd_step": TaskGrader(mlp.cases_sgd, mlp.check_sgd, mlp.SGD_ERRORS),
    "train_epoch": TaskGrader(mlp.cases_epoch, mlp.check_epoch),
    "feature_map": TaskGrader(features.cases_features, features.check_features, credit=features.credit_features),
}


def precompute(cases: dict) -> None:
    """hw2's references are computed while scoring (they depend on what the submission returned)."""


def make_cases(assignment: Assignment, seed: int, visible_only: bool, devices: tuple[str, ...] = ("cpu",),
               public_seed: int = 0) -> dict[str, list[dict]]:
    """All cases per task: visible ones from the public seed, hidden ones from ``seed`` (CPU only)."""
    cases: dict[str, list[dict]] = {t.name: [] for t in assignment.tasks}
    for task, visible, tag, g in streams(assignment, seed, visible_only, public_seed):
        for kind, label, fields in GRADERS[task.name].cases(g, visible):
            cases[task.name].append({"task": task.name, "kind": kind, "label": f"{tag} {label}", "visible": visible,
                                     **fields})
    return cases


# ----------------------------------------------------------------------------------------------
# Scoring: the same for every task


def _dedupe(lines: list[str], limit: int = 6) -> list[str]:
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen[:limit]


def _stub(r: dict) -> bool:
    """Whether a result that raised is a task not done yet: the child's word that the submission's own code
    raised NotImplementedError (not torch, for a value); without that word, the exception's type."""
    flag = r.get("not_implemented")
    if type(flag) is bool:
        return flag
    exc = str(r.get("exc_type", ""))
    return exc == "NotImplementedError" or (not exc and "NotImplementedError" in str(r.get("error", "")))


def _error_text(task: str, message: str, case: dict | None = None, exc: str = "", stub: bool = False) -> str:
    """One line for an exception: "not implemented: ..." for a stub (``_stub``); on a hidden case only the
    exception's type and the case's description (the message can contain hidden inputs)."""
    if stub:
        text = message.split("NotImplementedError:", 1)[-1].split(" (line ", 1)[0].strip()
        if case is not None and not case.get("visible"):
            text = ""
        return "not implemented: " + (text or f"{task} raised NotImplementedError")
    hint = next((h for text, h in GRADERS[task].error_hints if text in message), "")
    if case is None:
        return f"raised {message}" + likely(hint)
    return case_error(task, case, message, exc) + likely(hint)


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
            return [_error_text(task.name, str(r["error"]), case, str(r.get("exc_type", "")), _stub(r))], []
        return [str(r["error"])], []  # the grader's own reason (a missing or malformed result)
    try:
        return GRADERS[task.name].check(case, r)
    except Exception as exc:  # a malformed return value must cost the case, never crash grading
        return [f"the grader could not read the result ({type(exc).__name__})"], []


def _not_implemented(task: Task, cases: list[dict], results: list) -> str | None:
    """The first "not implemented" line, its text taken from a visible case only."""
    pairs = sorted(zip(cases, results), key=lambda cr: not cr[0].get("visible"))
    for case, r in pairs:
        if isinstance(r, dict) and r.get("error") and _stub(r):
            return _error_text(task.name, str(r["error"]), case, str(r.get("exc_type", "")), _stub(r))
    return None


def _case_credit(task: Task, case: dict, problems: list[str], r: dict) -> float:
    """1 for a case without problems; a failing one earns what its task's ``credit`` grants (if any)."""
    if not problems:
        return 1.0
    credit = GRADERS[task.name].credit
    if credit is None or not isinstance(r, dict) or r.get("error"):
        return 0.0
    try:
        return max(0.0, min(1.0, float(credit(case, r))))
    except Exception:  # a malformed result earns nothing, never crashes grading
        return 0.0


def score_task(assignment: Assignment, task: Task, cases: list[dict], results: list[dict] | None,
               failure: str | None) -> list[Outcome]:
    """One Outcome per category: main cases, edge cases, contract (visible and hidden cases alike)."""
    keys = [c.key for c in assignment.categories]
    refused: list[str] = []
    if results is not None:  # every field checked before anything below (unrunnable included) reads it
        results, refused = conform(cases, results, result_schema)
    early = unrunnable(assignment, task, results, failure, GRADERS[task.name].kind)
    if early is not None:
        return early
    if any(isinstance(r, dict) and r.get("tampered") for r in results):
        why = (f"{task.name}: your file replaced code the grader or torch relies on — a submission may only "
               "define its functions and classes")
        return [Outcome(task.name, k, 0.0, [why]) for k in keys]
    nie = _not_implemented(task, cases, results)
    checked = [(c, _run_check(task, c, r)) for c, r in zip(cases, results)]
    scores: dict[str, tuple[float, list[str]]] = {}
    for key in ("main", "edge"):
        part = [(c, p, r) for (c, (p, _)), r in zip(checked, results) if c["kind"] == key]
        if not part:
            scores[key] = (0.0, ["no cases ran"])
            continue
        passed = sum(_case_credit(task, c, p, r) for c, p, r in part)
        scores[key] = (passed / len(part), _dedupe([_head(task, c, line) for c, p, _ in part for line in p]))
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
    if scores["main"][0] == 0:  # constants of the right shapes pass every contract check and some edge cases
        first = next((c for c in cases if c["kind"] == "main"), None)
        idle = [] if nie or first is None else [_head(task, first, "no random case is right yet, so the edge cases and "
                                                      "the contract earn nothing either: make the random cases pass first")]
        for key in ("edge", "compliance"):
            scores[key] = (0.0, idle + scores[key][1] if scores[key][0] else scores[key][1] or idle)
    outcomes = []
    for k in keys:
        frac, lines = scores[k]
        if nie:
            lines = [nie] + [ln for ln in lines if "not implemented" not in ln]
        outcomes.append(Outcome(task.name, k, frac, lines, refused if k == "compliance" else []))
    return outcomes
