"""Turning a GradeResult into Gradescope's results.json, a student table, and atomic files."""

from __future__ import annotations

from pathlib import Path

from course_nn.files import write_json
from course_nn.grading.engine import GradeResult

MAX_TEST_OUTPUT = 4000


def _test_output(lines: list[str]) -> str:
    text = "\n".join(lines) if lines else "ok"
    return text if len(text) <= MAX_TEST_OUTPUT else text[:MAX_TEST_OUTPUT] + "\n..."


def results_json(result: GradeResult) -> dict:
    """Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    a = result.assignment
    cats = {c.key: c for c in a.categories}
    tests = []
    for o in result.outcomes:
        task = a.task(o.task)
        cat = cats[o.category]
        max_score = a.max_score(task, cat)
        tests.append({
            "name": f"{task.name}: {cat.title}",
            "score": round(max_score * o.fraction, 4),
            "max_score": max_score,
            "status": "passed" if o.passed else "failed",
            "output": _test_output(o.lines),
            "visibility": "visible" if result.visible_only else cat.visibility,
            "tags": [a.name, a.marker(task), o.category],
        })
        if o.review:
            tests.append({
                "name": f"{task.name}: review flags (instructor only, no points)",
                "score": 0.0, "max_score": 0.0, "status": "failed",
                "output": _test_output(["Look at these lines by hand; they may be harmless:"] + o.review),
                "visibility": "hidden", "tags": [a.name, a.marker(task), "review"],
            })
    summary = [f"{a.name} ({a.title}): {result.score:.2f} / {a.total_points:g} points"]
    summary += [f"{task.name}: {sum(t['score'] for t in tests if t['name'].startswith(task.name + ':')):.2f} / {task.points:g}"
                for task in a.tasks]
    return {
        "score": round(result.score, 4),
        "execution_time": round(result.seconds, 3),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        # Not shown to students: how the run went, and what the submission printed (capped).
        "extra_data": {"notes": result.notes, "submission_output": result.output[:8000]},
    }


def write_results(result: GradeResult, path: str | Path) -> dict:
    data = results_json(result)
    write_json(path, data)
    return data


def table(result: GradeResult, width: int | None = None) -> str:
    """The self-check table: function, check, pass/fail, and the first reason, wrapped (never cut)."""
    import shutil
    import textwrap

    width = width or max(100, shutil.get_terminal_size((120, 24)).columns)
    rows = [("function", "check", "result", "reason")]
    reasons = {o.reason() for o in result.outcomes}
    if len(reasons) == 1 and not any(o.passed for o in result.outcomes):  # e.g. a syntax error: say it once
        rows.append(("(every function)", "(every check)", "FAIL", reasons.pop()))
    else:
        rows += [(o.task, o.category, "PASS" if o.passed else ("part" if o.fraction > 0 else "FAIL"),
                  o.reason().replace("\n", " ")) for o in result.outcomes]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = []
    for r in rows:
        head = f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<6}  "
        wrapped = textwrap.wrap(r[3], max(40, width - len(head))) or [""]
        lines.append(head + wrapped[0])
        lines += [" " * len(head) + more for more in wrapped[1:]]
    return "\n".join(lines)


def details(result: GradeResult, include_review: bool = False) -> str:
    """Every failure line, grouped per task (the table keeps only the first)."""
    out: list[str] = []
    if len({tuple(o.lines) for o in result.outcomes}) == 1 and not any(o.passed for o in result.outcomes):
        result_lines = result.outcomes[0].lines if result.outcomes else []
        out = ["every function / every check:"] + [f"  - {line}" for line in result_lines]
        if include_review:
            out += [f"review: {line}" for o in result.outcomes for line in o.review]
        return "\n".join(out)
    for o in result.outcomes:
        if o.lines and not o.passed:
            out.append(f"{o.task} / {o.category}:")
            out += [f"  - {line}" for line in o.lines]
        if include_review and o.review:
            out.append(f"{o.task} / review (instructor only):")
            out += [f"  - {line}" for line in o.review]
    return "\n".join(out)
