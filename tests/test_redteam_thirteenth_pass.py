"""A thirteenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt13_*.py) are appended to the correct base, so their classes replace the base's.
Each hostile file asserts the credit it must not earn. The ones the grader gets wrong today are strict xfails whose
reason says where the hole is: remove the mark when fixed.

Confirmed sandboxed by hand (`course-nn grade FILE -a hw1 --json OUT` as root, the child as 'nobody', the course's
hidden seed): the minority file 77.40 of 100 (the same per-category credit as in-process), the flattened gradient
full gradcheck credit for Square (0.75 of 0.75) and Sigmoid (1.5 of 1.5).
Tried and held (no test kept): a batched x + h·I central difference for Linear, QuadraticForm and CrossEntropy in
every third call (the per-case growth signal denies those cases: small inputs make ops >= numel).
"""

from __future__ import annotations

import contextlib
import io

import pytest
from test_redteam_fifth_pass import HW1, PARTS1, _earned

from course_nn.grading import engine, report

BASE1 = PARTS1 / "correct_base.py"


def _write(tmp_path, assignment, base, part, extra: str = ""):
    path = tmp_path / assignment.submission
    path.write_text(base.read_text() + "\n\n" + part.read_text() + extra)
    return path


def _grade_text(path, assignment):
    with contextlib.redirect_stdout(io.StringIO()):
        return engine.grade(path, assignment, seed=3, isolate=False)


# ----------------------------------------------------------------------------------------------
# hw1: a vectorised numerical derivative in a minority of the calls of every kind. A nudged copy of an input is
# judged only by majority per kind of case (compliance._most: half or more of a kind's watched cases), and the
# per-case signs (compliance.case_signs) are complex numbers and numel² growth alone. A central difference of the
# whole input at once (f(x + h) - f(x - h)) / 2h, no loop over elements, grows nothing; taken in every third
# backward call (zeros in the others) it stays a minority of each kind, and each of those calls earns its case:
# in-process, seed 3, Square backward 0.3 / edge 0.33, Sigmoid backward 0.3 / gradcheck 0.33 / edge 0.23,
# SquaredError backward 0.4 / gradcheck 0.33 / edge 0.22 (all 0 with zeros in every call), 77.4 of 100 against
# the 70.2 the same file earns with zeros everywhere (the other Functions are the base's). A student who can
# derive no formula keeps a third of what a formula earns.

MINORITY = PARTS1 / "rt13_numdiff_vectorised_minority.py"
MEASURED = ("Square", "Sigmoid", "SquaredError")


@pytest.mark.xfail(strict=True, reason="compliance.case_signs: a case whose own backward formed nudged copies of "
                   "its input (a whole-tensor central difference) keeps its credit while such cases are a "
                   "minority of their kind (compliance._most judges nudges only by majority per kind; per case they "
                   "would cost honest element loops their random cases: docs/security.md, item 10)")
def test_a_vectorised_numerical_derivative_in_a_minority_of_calls_earns_nothing_for_them(tmp_path):
    earned = _earned(_grade_text(_write(tmp_path, HW1, BASE1, MINORITY), HW1))
    assert {(t, c): earned[(t, c)] for t in MEASURED for c in ("backward", "gradcheck", "edge")
            if earned[(t, c)]} == {}, earned


def test_the_minority_file_with_zeros_everywhere_earns_nothing_but_forward(tmp_path):
    """The control: the same file, never differentiating, earns no backward, gradcheck or edge credit for the
    three Functions, so what the minority file earns there comes from its numerical calls alone."""
    result = _grade_text(_write(tmp_path, HW1, BASE1, MINORITY, "\n_EVERY = 10 ** 9\n"), HW1)
    earned = _earned(result)
    assert all(earned[(t, "forward")] == 1 for t in MEASURED), report.details(result)
    assert {(t, c): earned[(t, c)] for t in MEASURED for c in ("backward", "gradcheck", "edge")
            if earned[(t, c)]} == {}, earned


# ----------------------------------------------------------------------------------------------
# hw1: gradcheck credits a gradient autograd refuses. Since gradcheck's backward is the direct call's VJP,
# checks.check_gradcheck compares only the gradient's number of elements with the input's (g.numel()), then reads
# it flat: a gradient right in value but flattened to (N·D,) passes, though the engine rejects it ("returned an
# invalid gradient ... expected shape compatible with [N, D]") and torch.autograd.gradcheck fails. The backward
# check already denies it every random case; gradcheck gives it full credit (Square and Sigmoid, seed 3).

FLAT = PARTS1 / "rt13_flat_gradient.py"


def test_a_flattened_gradient_autograd_refuses_earns_no_gradcheck_credit(tmp_path):
    """Held since check_gradcheck compares each gradient's shape with its input's, as autograd does."""
    earned = _earned(_grade_text(_write(tmp_path, HW1, BASE1, FLAT), HW1))
    assert {t: earned[(t, "gradcheck")] for t in ("Square", "Sigmoid")} == {"Square": 0, "Sigmoid": 0}, earned


def test_a_flattened_gradient_keeps_forward_and_loses_backward(tmp_path):
    earned = _earned(_grade_text(_write(tmp_path, HW1, BASE1, FLAT), HW1))
    assert all(earned[(t, "forward")] == 1 and earned[(t, "backward")] == 0 for t in ("Square", "Sigmoid")), earned


# ----------------------------------------------------------------------------------------------
# hw1 fairness: per-kind verdicts on small kinds. QuadraticForm's edge kind has 4 watched cases (its n = 1 cases
# hold one element), so 2 honest flags there would cost the whole Function; an honest element loop whose running
# sums look like nudged copies of v (2 of 10 random cases here) shows how near honest code runs. Held today.

FAIR_QUADRATIC = PARTS1 / "rt13_fair_quadratic_element_loop_both.py"


def test_a_quadratic_form_summed_term_by_term_keeps_full_credit(tmp_path):
    result = _grade_text(_write(tmp_path, HW1, BASE1, FAIR_QUADRATIC), HW1)
    earned = _earned(result)
    assert {k: f for k, f in earned.items() if k[0] == "QuadraticForm" and f < 1} == {}, report.details(result)
