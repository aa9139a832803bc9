"""A twelfth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt12_*.py) are appended to the correct base, so their classes replace the base's.
Each hostile file asserts the credit it must not earn. The ones the grader gets wrong today are strict xfails whose
reason says where the hole is: remove the mark when fixed.

Tried and held (sandboxed, by hand; no test kept): an exception whose __str__ loops forever or returns 256 MiB, 64 MiB
printed per forward call, a generator in a reference cycle whose finally loops when the collector finalizes it, a
Function that hangs only in its hidden cases (that task alone fails, with a plain message; the others keep their
credit), and autograd (torch.autograd.grad under enable_grad) used only for one-hot upstream gradients (the gate's
charges refuse it whatever the recorders saw).
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
# hw1: a numerical derivative where nothing watches. The watch for numerical differentiation (and for a gradient
# computed outside torch) runs on the direct calls of the random ("main") cases only (probe_hw1._direct: `watch =
# record and case["kind"] == "main"`); gradcheck's Jacobian (probe_hw1._jacobian) calls backward with neither the
# recorders nor the watch, and the edge and accuracy cases with the recorders alone. A backward asked with a
# one-hot upstream gradient is gradcheck's, and nothing else the grader sends is one-hot (a loss's upstream scalar
# is drawn from [1.5, 3)). So a file whose backward differentiates numerically there, and returns zeros in the
# watched cases, writes no derivative at all and keeps compliance, and earns gradcheck for every Function:
# 40 of 100 in-process (forward 20, gradcheck 15, compliance 5, a little edge), where forward's 20 is deserved.
# Sandboxed, the runner's order adds the edge cases: each task's visible units run apart from its hidden ones, so
# "another Function ran since my last call" says a unit's main cases begin, and "a one-hot upstream gradient was
# seen" says gradcheck (and after it the unwatched edge cases) came: 51.89 of 100 with seed 3.

NUMDIFF = PARTS1 / "rt12_numdiff_outside_the_watched_cases.py"
def test_a_numerical_jacobian_for_one_hot_upstreams_earns_no_gradcheck_credit(tmp_path):
    """Held since every backward the grader asks for is watched (gradcheck's is one call with the case's random
    upstream gradient, no longer one-hot) and a case whose own call differentiates numerically fails."""
    result = _grade_text(_write(tmp_path, HW1, BASE1, NUMDIFF, "\n_EDGE_TOO = False\n"), HW1)
    earned = _earned(result)
    assert {t.name: earned[(t.name, "gradcheck")] for t in HW1.tasks} == {t.name: 0 for t in HW1.tasks}, \
        report.details(result)


def test_the_one_hot_numerical_jacobian_keeps_forward_and_earns_no_backward(tmp_path):
    """Held: its forwards are right and it returns zeros in every case the backward check reads."""
    earned = _earned(_grade_text(_write(tmp_path, HW1, BASE1, NUMDIFF, "\n_EDGE_TOO = False\n"), HW1))
    assert all(earned[(t.name, "forward")] == 1 and earned[(t.name, "backward")] == 0 for t in HW1.tasks), earned


@pytest.mark.sandbox
def test_a_numerical_derivative_outside_the_watched_cases_earns_nothing_but_forward_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, BASE1, NUMDIFF), HW1, seed=3)
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    assert {k: f for k, f in earned.items() if k[1] == "gradcheck" and f} == {}, report.details(result)
    # Its zeros are right where the true gradient is zero (Sigmoid at ±800 underflows to 0, one of 13 edge
    # cases; one of ReLU's 9): that much edge credit any zero backward keeps.
    assert all(f <= 1 / 9 + 1e-9 for k, f in earned.items() if k[1] == "edge"), report.details(result)
    assert result.score <= 25.5, report.details(result)  # forward's 20, compliance's 5 (it measures nothing now)


def test_a_numerical_derivative_in_a_minority_of_calls_earns_nothing_for_them(tmp_path):
    """One backward call in three differentiates numerically (zeros in the others), in every kind of case: below
    any majority, so only the per-case judgement (compliance.case_signs) denies those calls their credit."""
    result = _grade_text(_write(tmp_path, HW1, BASE1, NUMDIFF, "\n_EDGE_TOO = False\n_EVERY = 3\n"), HW1)
    earned = _earned(result)
    assert {k: f for k, f in earned.items() if k[1] in ("backward", "gradcheck", "edge") and f} == {}, \
        report.details(result)
    lines = [ln for o in result.outcomes if o.category == "backward" for ln in o.lines]
    assert any("nudged copies of its input" in ln or "once per input element" in ln for ln in lines), lines
