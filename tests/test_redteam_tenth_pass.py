"""A tenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt10_*.py) are appended to the untouched stub (hostile: they must earn nothing)
or to the correct base (fair: they must keep full credit); the hw2 part (tests/submissions/hw2/rt10_*.py) to hw2's
correct base or to the untouched stub. Each hostile file asserts the credit it must not earn; each fair file
(rt10_fair_*.py) is correct code in an unusual legitimate style and asserts full credit. The ones the grader gets
wrong are strict xfails whose reason says where the hole is (none left: each was fixed where its test says).
"""

from __future__ import annotations

import contextlib
import io

import pytest
from test_redteam_fifth_pass import HW1, HW2, PARTS1, PARTS2, STUB1, STUB2, _earned, _grade, _write

from course_nn.grading import engine, report

BASES2 = [pytest.param(PARTS2 / "correct_base.py", id="correct-base"), pytest.param(STUB2, id="untouched-stub")]


# ----------------------------------------------------------------------------------------------
# hw2 step_approximation: a "network" whose one output weight is NaN. check_step (hw2/approximation.py) marks a
# point bad where err > tol; with f̂ NaN everywhere err is NaN and NaN > tol is False, so no point is bad and the
# task earns full credit without calling f.

STEP_NAN = PARTS2 / "rt10_step_approximation_nan_network.py"
@pytest.mark.parametrize("base", BASES2)
def test_a_nan_step_network_earns_nothing(tmp_path, base):
    """Held since hw2/approximation._network refuses NaN or inf weights (and check_step counts a NaN error as bad)."""
    result = _grade(tmp_path, HW2, base, STEP_NAN)
    earned = _earned(result)
    assert {c: earned[("step_approximation", c)] for c in ("main", "edge")} == {"main": 0, "edge": 0}, \
        report.details(result)


@pytest.mark.sandbox
def test_a_nan_step_network_earns_nothing_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW2, STUB2, STEP_NAN), HW2, seed=3)
    assert not result.grader_error, result.grader_error
    assert result.points_by_task()["step_approximation"][0] == 0, report.details(result)


# ----------------------------------------------------------------------------------------------
# hw1 gradcheck: Functions that compute nothing. The split gradcheck (hw1/checks.check_gradcheck and _all_agree)
# compares backward's Jacobian with central differences of the file's own forward values. (a) NaN on both sides:
# |NaN - NaN| > atol + rtol·|NaN| is False, so every entry "agrees". (b) A zero forward and a zero backward agree
# with each other exactly. Either way each Function earns its gradcheck share (15%), 15 of 100 points for the
# untouched stub with seven one-line Functions; the "idle" rule (hw1/scoring.score_task) that denies such
# Functions compliance credit covers compliance only.

NOTHING = [
    pytest.param("rt10_gradcheck_nan_everywhere", id="nan-everywhere"),
    pytest.param("rt10_gradcheck_idle_zeros", id="idle-zeros"),
    pytest.param("rt10_gradcheck_tiny_slope", id="tiny-slope"),
]


def _gradcheck_earned(result) -> dict[str, float]:
    return {t: f for (t, c), f in _earned(result).items() if c == "gradcheck"}


@pytest.mark.parametrize("name", NOTHING)
def test_functions_that_compute_nothing_earn_no_gradcheck_credit(tmp_path, name):
    """Held since a NaN or inf on either side fails gradcheck's comparison (hw1/checks), and the idle rule
    (hw1/scoring.score_task) withholds gradcheck and edge credit from a Function with no main case right."""
    result = _grade(tmp_path, HW1, STUB1, PARTS1 / f"{name}.py")
    earned = _gradcheck_earned(result)
    assert earned == {t.name: 0 for t in HW1.tasks}, report.details(result)
    assert result.score == 0, report.details(result)  # ReLU's zeros, right below 0, are idle work too


@pytest.mark.sandbox
def test_nan_functions_earn_no_gradcheck_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, STUB1, PARTS1 / "rt10_gradcheck_nan_everywhere.py"), HW1, seed=3)
    assert not result.grader_error, result.grader_error
    assert result.score == 0, report.details(result)


def test_a_nan_backward_beside_a_right_forward_earns_no_gradcheck_credit(tmp_path):
    """The realistic form: a student with a right forward whose backward is NaN keeps forward's credit, rightly,
    and earned gradcheck's 15% with it until a NaN on either side failed gradcheck's comparison."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt10_gradcheck_nan_backward.py")
    earned = _earned(result)
    assert earned[("Sigmoid", "forward")] == 1, report.details(result)
    assert earned[("Sigmoid", "gradcheck")] == 0, report.details(result)


def test_the_nan_functions_lose_every_other_check(tmp_path):
    """Held: forward, backward, edge and compliance all see the NaN (isclose is False for NaN)."""
    result = _grade(tmp_path, HW1, STUB1, PARTS1 / "rt10_gradcheck_nan_everywhere.py")
    others = {k: f for k, f in _earned(result).items() if k[1] != "gradcheck" and f}
    assert others == {}, report.details(result)


# ----------------------------------------------------------------------------------------------
# Fair: a two-branch stable sigmoid through a module-level helper both methods call, a ReLU from a mask filled in
# place on a new tensor, addmm and tensordot, a squared norm, a cross-entropy from logsumexp with a one-hot made by
# scatter_ into new zeros, einsum and mv, needs_input_grad honoured everywhere. Held.

FAIR1 = PARTS1 / "rt10_fair_where_scatter_and_helpers.py"


@pytest.mark.parametrize("seed", [3, 11])
def test_where_scatter_and_shared_helpers_keep_full_credit(tmp_path, seed):
    path = _write(tmp_path, HW1, PARTS1 / "correct_base.py", FAIR1)
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=seed, isolate=False)
    assert not any("numerically" in ln or "outside torch" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


@pytest.mark.sandbox
def test_where_scatter_and_shared_helpers_keep_full_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, PARTS1 / "correct_base.py", FAIR1), HW1, seed=3)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# Fair (hw2): the construction tasks with Python numbers and lists — f called on one float at a time, networks
# returned as lists and a float, a perceptron on rows read as lists, torch.sign with a boundary fix-up. Held.

FAIR2 = PARTS2 / "rt10_fair_python_numbers_and_lists.py"


@pytest.mark.parametrize("seed", [3, 11])
def test_constructions_in_python_numbers_and_lists_keep_full_credit(tmp_path, seed):
    path = _write(tmp_path, HW2, PARTS2 / "correct_base.py", FAIR2)
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW2, seed=seed, isolate=False)
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


@pytest.mark.sandbox
def test_constructions_in_python_numbers_and_lists_keep_full_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW2, PARTS2 / "correct_base.py", FAIR2), HW2, seed=3)
    assert result.score == pytest.approx(HW2.total_points), report.details(result)
