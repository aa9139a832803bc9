"""What the students' public pytest files call: the autograder's visible checks, run in-process.

In-process (no sandbox) so that a student can set breakpoints in their own code; the checks and
messages are exactly those of ``course-nn check`` and the autograder's visible tests.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from course_nn import registry
from course_nn.grading.outcome import Outcome


def submission_path(test_file: str, assignment_name: str) -> Path:
    """The file under test: $COURSE_NN_SUBMISSION, else the submission next to the test file."""
    override = os.environ.get("COURSE_NN_SUBMISSION")
    if override:
        return Path(override)
    return Path(test_file).with_name(registry.get(assignment_name).submission)


@functools.lru_cache(maxsize=8)
def _outcomes(path: str, assignment_name: str) -> dict[tuple[str, str], Outcome]:
    from course_nn.grading import engine

    result = engine.grade(path, registry.get(assignment_name), visible_only=True, isolate=False)
    return {(o.task, o.category): o for o in result.outcomes}


def params(assignment_name: str):
    """pytest parameters (task, category), each marked with its task's marker (``-m task1_3``)."""
    import pytest

    a = registry.get(assignment_name)
    return [pytest.param(t.name, c.key, marks=getattr(pytest.mark, a.marker(t)), id=f"{t.name}-{c.key}")
            for t in a.tasks for c in a.categories]


def register_markers(config, assignment_name: str) -> None:
    a = registry.get(assignment_name)
    for t in a.tasks:
        config.addinivalue_line("markers", f"{a.marker(t)}: {a.label(t)} — {t.name}: {t.summary}")


def check(test_file: str, assignment_name: str, task: str, category: str) -> None:
    """Fail the calling test with the grader's own message when this check does not pass."""
    import pytest

    path = submission_path(test_file, assignment_name)
    outcome = _outcomes(str(path), assignment_name)[(task, category)]
    if not outcome.passed:
        pytest.fail(f"{task} / {category} ({outcome.fraction:.0%} of cases pass):\n  "
                    + "\n  ".join(outcome.lines or ["failed"]), pytrace=False)
