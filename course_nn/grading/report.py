"""Turning a GradeResult into Gradescope's results.json, a student table, and atomic files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from course_nn.files import write_json
from course_nn.grading import markdown
from course_nn.grading import status as statuses
from course_nn.grading.engine import GradeResult
from course_nn.grading.outcome import Outcome

MAX_TEST_OUTPUT = 4000
MAX_SUBMISSION_OUTPUT = 8000
#: Gradescope visibilities a student does not see until the instructor publishes grades.
LATER = ("after_published", "after_due_date", "hidden")
#: The table's result column, explained under every table (and in the handouts).
LEGEND = ("result: PASS = all of this check's points, part = some of them (some cases passed: partial "
          "credit), FAIL = none")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters cut)"


def _test_output(lines: list[str]) -> str:
    """A test's output: Markdown (escaped, see markdown.py) where the grader wrote a `code` name, else
    plain text; either way each feedback line stays one line, whatever student text it holds."""
    if any("`" in line for line in lines):  # cut between paragraphs, never inside an escape
        kept, size = [], 0
        for i, line in enumerate(lines):
            part = markdown.paragraphs([line])
            if kept and size + len(part) > MAX_TEST_OUTPUT:
                return "\n\n".join(kept + [f"... ({len(lines) - i} more lines cut)"])
            kept.append(part[:MAX_TEST_OUTPUT].rstrip("\\"))
            size += len(part) + 2
        return "\n\n".join(kept)
    return _cap("\n".join(markdown.one_line(line) for line in lines) if lines else "ok", MAX_TEST_OUTPUT)


@dataclass
class Row:
    """One line of the table / one Gradescope test: a category of a task, or a whole task whose
    every check failed for the same reason (a missing class is one row, not five)."""

    task: str
    category: str | None  # None: every check of the task
    outcomes: list[Outcome]

    @property
    def fraction(self) -> float:
        return self.outcomes[0].fraction if self.category else 0.0

    @property
    def lines(self) -> list[str]:
        return self.outcomes[0].lines


def _collapsed(outcomes: list[Outcome]) -> bool:
    return (len(outcomes) > 1 and all(o.fraction <= 0 for o in outcomes) and bool(outcomes[0].lines)
            and all(o.lines == outcomes[0].lines for o in outcomes))


def rows(result: GradeResult) -> list[Row]:
    """The outcomes in task order, a task's identical failures merged into one row."""
    by_task: dict[str, list[Outcome]] = {}
    for o in result.outcomes:
        by_task.setdefault(o.task, []).append(o)
    out: list[Row] = []
    for task, outcomes in by_task.items():
        if _collapsed(outcomes):
            out.append(Row(task, None, outcomes))
        else:
            out += [Row(task, o.category, [o]) for o in outcomes]
    return out


def task_points(result: GradeResult) -> list[tuple[str, float, float]]:
    """(task, earned, max) per task, from GradeResult.points_by_task (the one place points are summed)."""
    return [(task, earned, possible) for task, (earned, possible) in result.points_by_task().items()]


def points_line(result: GradeResult) -> str:
    """'Square 5.00 / 5, ..., total 100.00 / 100'."""
    per = task_points(result)
    earned = sum(e for _, e, _ in per)
    possible = sum(p for _, _, p in per)
    return ", ".join(f"{t} {e:.2f} / {p:g}" for t, e, p in per) + f"; total {earned:.2f} / {possible:g}"


def _test(result: GradeResult, row: Row) -> dict:
    a = result.assignment
    task = a.task(row.task)
    cats = {c.key: c for c in a.categories}
    if row.category is None:  # the whole task could not run: one visible test worth all its points
        max_score = sum(a.max_score(task, cats[o.category]) for o in row.outcomes)
        return {"name": f"{task.name}: every check (it could not run)", "score": 0.0, "max_score": max_score,
                "status": "failed", "output": _test_output(row.lines), "visibility": "visible",
                "tags": [a.name, a.marker(task), "all"]}
    cat = cats[row.category]
    max_score = a.max_score(task, cat)
    o = row.outcomes[0]
    return {"name": f"{task.name}: {cat.title}", "score": round(max_score * o.fraction, 4),
            "max_score": max_score, "status": "passed" if o.passed else "failed",
            "output": _test_output(o.lines), "visibility": "visible" if result.visible_only else cat.visibility,
            "tags": [a.name, a.marker(task), o.category]}


def _format(test: dict) -> dict:
    """Backticks in a message are Markdown (and the output was escaped as such): ask Gradescope to render it."""
    if "`" in test["output"]:
        test["output_format"] = "md"
    return test


def _summary(result: GradeResult, tests: list[dict], status: statuses.Status, notes: list[str]) -> str:
    """The always-visible top-level output, in Markdown: status, notes, and a fixed-width table of
    points that shows only what the student may already see."""
    a = result.assignment
    later = any(t["visibility"] in LATER and t["max_score"] > 0 for t in tests)
    out = [f"**{a.name} ({a.title})**", ""]
    if not status.ok:  # the reason and the notes can hold student text (an exception, a file name): escaped
        out += [f"**{status.name}**: {markdown.inline(status.reason, code=True)}", ""]
    out += [f"Note: {markdown.inline(n, code=True)}" for n in notes] + ([""] if notes else [])
    per: dict[str, list[float]] = {t.name: [0.0, 0.0] for t in a.tasks}
    for t in tests:  # from the tests themselves: exactly what the student can see next to this
        if t["max_score"] > 0 and not (later and t["visibility"] in LATER):
            per[t["name"].split(":")[0]][0] += t["score"]
            per[t["name"].split(":")[0]][1] += t["max_score"]
    width = max(len(t) for t in per)
    table = [f"{t:<{width}}  {e:6.2f} / {p:g}" for t, (e, p) in per.items()]
    if later:
        out += ["Points on the tests you can see now (the other tests, and your total, are published "
                "with the grades):"]
    else:
        table.append(f"{'total':<{width}}  {result.score:6.2f} / {a.total_points:g}")
    return "\n".join(out + ["```", *table, "```"])


def results_json(result: GradeResult, notes: list[str] | None = None) -> dict:
    """Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

    ``notes`` are shown to the student at the top (e.g. a misnamed file that was graded anyway).
    """
    a = result.assignment
    tests = []
    for row in rows(result):
        tests.append(_format(_test(result, row)))
        review = [line for o in row.outcomes for line in o.review]
        if review:
            task = a.task(row.task)
            tests.append({
                "name": f"{task.name}: review flags (instructor only, no points)",
                "score": 0.0, "max_score": 0.0, "status": "failed",
                "output": _test_output(["Look at these lines by hand; they may be harmless:"] + review),
                "visibility": "hidden", "tags": [a.name, a.marker(task), "review"],
            })
    status = statuses.of_result(result)
    return {
        "score": round(result.score, 4),
        "execution_time": round(result.seconds, 3),
        "output": _summary(result, tests, status, [*(notes or []), *result.source_notes]),
        "output_format": "md",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        # Not shown to students: how the run went, and what the submission printed (capped).
        "extra_data": {"status": status.name, "status_reason": status.reason, "notes": result.notes,
                       "submission_output": _cap(result.output or "", MAX_SUBMISSION_OUTPUT)},
    }


def write_results(result: GradeResult, path: str | Path, notes: list[str] | None = None) -> dict:
    data = results_json(result, notes)
    write_json(path, data)
    return data


def failure_results(message: str, *, seconds: float = 0.0, extra: dict | None = None) -> dict:
    """results.json when nothing could be graded (no file to grade, or the grader itself failed):
    score 0 and one visible message saying what to do."""
    return {"score": 0.0, "execution_time": round(seconds, 3), "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [], "extra_data": extra or {}}


def table(result: GradeResult, width: int | None = None) -> str:
    """The self-check table: function, check, pass/part/fail, and the first reason, wrapped (never cut)."""
    import shutil
    import textwrap

    width = width or max(100, shutil.get_terminal_size((120, 24)).columns)
    lines_ = [("function", "check", "result", "reason")]
    reasons = {o.reason() for o in result.outcomes}
    if len(reasons) == 1 and not any(o.fraction > 0 for o in result.outcomes):  # a syntax error: say it once
        lines_.append(("(every function)", "(every check)", "FAIL", reasons.pop()))
    else:
        for r in rows(result):
            mark = "PASS" if r.category and r.outcomes[0].passed else ("part" if r.fraction > 0 else "FAIL")
            reason = r.outcomes[0].reason() if r.category else r.lines[0]
            lines_.append((r.task, r.category or "(all checks)", mark, reason.replace("\n", " ")))
    w0 = max(len(r[0]) for r in lines_)
    w1 = max(len(r[1]) for r in lines_)
    out = []
    for r in lines_:
        head = f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<6}  "
        wrapped = textwrap.wrap(r[3], max(40, width - len(head))) or [""]
        out.append(head + wrapped[0])
        out += [" " * len(head) + more for more in wrapped[1:]]
    return "\n".join(out)


def details(result: GradeResult, include_review: bool = False) -> str:
    """Every failure line, grouped per task and check (the table keeps only the first). A header
    is printed only when lines follow it."""
    out: list[str] = []

    def block(header: str, lines: list[str]) -> None:
        lines = [line for line in lines if line.strip()]
        if lines:
            out.append(header)
            out.extend(f"  - {line}" for line in lines)

    failing = [o for o in result.outcomes if not o.passed]
    if failing and len(failing) == len(result.outcomes) and len({tuple(o.lines) for o in failing}) == 1:
        block("every function / every check:", failing[0].lines)
    else:
        for r in rows(result):
            if r.category is None:
                block(f"{r.task} / every check:", r.lines)
            elif not r.outcomes[0].passed:
                block(f"{r.task} / {r.category}:", r.lines)
    if include_review:
        for o in result.outcomes:
            block(f"{o.task} / review (instructor only):", o.review)
    return "\n".join(out)
