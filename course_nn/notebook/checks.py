"""A notebook's check cell: one task's rows of the table `course-nn check` prints, for the code this
kernel ran (kernel.py assembles it into the assignment's file, engine.grade runs the visible checks).

It runs in the notebook's own process (a student's self-check, like their pytest), so a debugger
and print() work; the autograder runs the same checks in its sandbox.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course_nn.errors import CourseError
from course_nn.notebook import kernel


def rows_of(table: str, task: str) -> list[str]:
    """The header and ``task``'s rows (with their wrapped lines) of ``report.table``'s text; a
    "(every function)" row (the file did not import) applies to every task and stays."""
    lines = table.splitlines()
    kept, keep = lines[:1], False
    for line in lines[1:]:
        if not line.startswith(" "):
            keep = line.startswith((f"{task} ", "(every function) "))
        if keep:
            kept.append(line)
    return kept


def _details_of(details: str, task: str) -> list[str]:
    out, keep = [], False
    for line in details.splitlines():
        if not line.startswith(" "):
            keep = line.startswith((f"{task} /", "every function /"))
        if keep:
            out.append(line)
    return out


def check(task: str, details: bool = False) -> None:
    """Print ``task``'s rows of the visible checks and its points (``details``: every failing line)."""
    from course_nn.grading import engine, report, status

    try:
        a = kernel.current()
        try:
            name = a.task(task).name
        except KeyError:
            raise CourseError(f"{a.name} has no task {task!r}; its tasks: {', '.join(t.name for t in a.tasks)}") from None
        code = kernel.ran(a)
        if name not in code.cells:
            raise CourseError(f"{name} is not defined yet: run its graded cell (above), then this one")
        with tempfile.TemporaryDirectory(prefix="course-nn-check-") as tmp:
            path = Path(tmp) / a.submission
            path.write_text(code.text, encoding="utf-8")
            result = engine.grade(path, a, visible_only=True, isolate=False)
            state = status.of_result(result)
    except CourseError as err:
        kernel.say(str(err))
        return
    if state.name == status.IMPORT_ERROR:
        print(f"{state.name}: {state.reason}\n")
    print("\n".join(rows_of(report.table(result), name)))
    print(report.LEGEND)
    mine = [o for o in result.outcomes if o.task == name]
    earned, possible = result.points_by_task()[name]
    print(f"\npoints on these visible checks: {name} {earned:.2f} / {possible:g}"
          f" ({sum(o.passed for o in mine)} of {len(mine)} checks pass; hidden tests run when you submit)")
    failing = [o for o in mine if not o.passed]
    if failing and details:
        print("\n" + "\n".join(_details_of(report.details(result), name)))
    elif failing:
        print(f'course.check("{name}", details=True) prints every failing line.')
