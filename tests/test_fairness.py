"""Fairness: correct code earns full credit whatever legitimate style it is written in.

Each file in tests/submissions/hw1/fair_*.py is a complete, correct functions.py in one style
(classic or setup_context; inputs or outputs saved; needs_input_grad honoured or ignored; ReLU 0 or
1 at the kink; ctx.saved_variables; printing; PyTorch's own tutorial and docs examples adapted by
aliases). hw2's fair_*.py files replace some of the reference's functions with correct code written
differently. A correct submission that loses a point here is a grader bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, report
from course_nn.grading.outcome import TIP

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
# The lecture-style file uses ctx.saved_variables on purpose: deprecated, still supported, fully graded.
pytestmark = pytest.mark.filterwarnings("ignore:'saved_variables' is deprecated")
FAIR_HW1 = sorted((SUBMISSIONS / "hw1").glob("fair_*.py"))
FAIR_HW2 = sorted((SUBMISSIONS / "hw2").glob("fair_*.py"))
HW2_BASE = ROOT / "solutions" / "hw2_mlp" / "mlp.py"


def submission(tmp_path: Path, name: str, *parts: Path) -> Path:
    """The parts, one after the other, as ``tmp_path/name`` (later definitions replace earlier ones)."""
    path = tmp_path / name
    path.write_text("\n\n".join(p.read_text() for p in parts))
    return path


def assert_full_credit(result, assignment) -> None:
    lost = [(o.task, o.category, o.lines[:1]) for o in result.outcomes if not o.passed]
    assert result.score == pytest.approx(assignment.total_points), f"{lost}\n{report.details(result)}"


def test_the_fair_submissions_are_there():
    names = {p.stem for p in FAIR_HW1}
    assert {"fair_classic_ignores_needs_input_grad", "fair_setup_context_saves_outputs",
            "fair_lecture_style_prints", "fair_pytorch_docs"} <= names
    assert FAIR_HW2


@pytest.mark.parametrize("path", FAIR_HW1, ids=lambda p: p.stem)
def test_correct_hw1_in_every_style_earns_full_credit(tmp_path, path):
    result = engine.grade(submission(tmp_path, "functions.py", path), HW1, isolate=False, seed=20261202)
    assert_full_credit(result, HW1)


@pytest.mark.parametrize("name", ["fair_pytorch_docs", "fair_lecture_style_prints"])
@pytest.mark.sandbox
def test_correct_hw1_earns_full_credit_in_the_sandbox(tmp_path, name):
    result = engine.grade(submission(tmp_path, "functions.py", SUBMISSIONS / "hw1" / f"{name}.py"), HW1,
                          seed=7)
    assert_full_credit(result, HW1)


def test_ignoring_needs_input_grad_is_a_tip_that_costs_nothing(tmp_path):
    path = submission(tmp_path, "functions.py", SUBMISSIONS / "hw1" / "fair_classic_ignores_needs_input_grad.py")
    result = engine.grade(path, HW1, isolate=False, seed=3)
    assert_full_credit(result, HW1)
    tips = [line for o in result.outcomes for line in o.lines if line.startswith(TIP)]
    assert any("Linear.backward returned a gradient for `x`" in t and "needs_input_grad[0] is False" in t
               for t in tips), tips
    assert any("skip that work" in t for t in tips)
    # the tip is visible in the table, next to a PASS
    assert "skip that work" in report.table(result, width=400)


def test_honouring_needs_input_grad_gets_no_tip(tmp_path):
    path = submission(tmp_path, "functions.py", SUBMISSIONS / "hw1" / "fair_setup_context_saves_outputs.py")
    result = engine.grade(path, HW1, isolate=False, seed=3)
    assert not [line for o in result.outcomes for line in o.lines]


@pytest.mark.parametrize("path", FAIR_HW2, ids=lambda p: p.stem)
def test_correct_hw2_written_differently_earns_full_credit(tmp_path, path):
    result = engine.grade(submission(tmp_path, "mlp.py", HW2_BASE, path), HW2, isolate=False, seed=20261202)
    assert_full_credit(result, HW2)
