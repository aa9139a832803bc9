"""A ninth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt9_*.py) are appended to the correct base, so their classes replace the
base's; the hw2 parts (tests/submissions/hw2/rt9_*.py) to hw2's correct base, or to the untouched stub. Each
hostile file asserts the credit it must not earn; each crash file asserts that grading ends with a result and no
error of the grader's own; each fair file (rt9_fair_*.py) is correct code in an unusual legitimate style and
asserts full credit. The ones the grader gets wrong today are strict xfails whose reason says where the hole is:
remove the mark when fixed.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from test_redteam_fifth_pass import HW1, HW2, PARTS1, PARTS2, STUB2, _earned, _grade, _write

from course_nn.grading import engine, report

BASES2 = [pytest.param(PARTS2 / "correct_base.py", id="correct-base"), pytest.param(STUB2, id="untouched-stub")]


# ----------------------------------------------------------------------------------------------
# hw2 sgd_step: state kept across cases. The child grades train_epoch with the grader's own sgd_step patched into
# the submission's module (probe_hw2._probe_train_epoch), and one child runs every task's visible cases before any
# hidden case: the visible train_epoch cases run before the hidden sgd_step cases. train_epoch keeps the function
# it finds under the name sgd_step; sgd_step hands its work to it from then on. In-process grading runs each task's
# cases together, task after task (engine.run_in_process): sgd_step's cases all come before train_epoch's there.

BORROW = PARTS2 / "rt9_sgd_step_borrows_the_graders_step.py"


@pytest.mark.sandbox
@pytest.mark.parametrize("base", BASES2)
def test_an_sgd_step_that_borrows_the_graders_own_step_earns_nothing_sandboxed(tmp_path, base, grade):
    """Held since probe_hw2._probe_train_epoch lends train_epoch a step that refuses once its case is over."""
    result = grade(_write(tmp_path, HW2, base, BORROW), HW2, seed=3)
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    assert earned[("train_epoch", "main")] == 1, report.details(result)  # its own loop is honest
    assert {c: earned[("sgd_step", c)] for c in ("main", "edge", "compliance")} == \
        {"main": 0, "edge": 0, "compliance": 0}, report.details(result)


@pytest.mark.parametrize("base", BASES2)
def test_an_sgd_step_that_borrows_the_graders_own_step_earns_nothing_in_process(tmp_path, base):
    """Held in-process only because sgd_step's cases all run before train_epoch's there."""
    result = _grade(tmp_path, HW2, base, BORROW)
    earned = _earned(result)
    assert {c: earned[("sgd_step", c)] for c in ("main", "edge", "compliance")} == \
        {"main": 0, "edge": 0, "compliance": 0}, report.details(result)


# ----------------------------------------------------------------------------------------------
# hw2 train_epoch: the parameters after the epoch are compared pairwise with what the child reports of
# model.parameters(); a file that unregisters them (model.register_parameter(f"weight_{d}", None), a listed Module
# method with a written-out name) leaves nothing to compare. Each loss is computed before its own update, so the
# last batch's update shows in no returned value: left out, the losses stay right.

HIDES = PARTS2 / "rt9_train_epoch_hides_its_parameters.py"


@pytest.mark.parametrize("base", BASES2)
def test_a_train_epoch_that_unregisters_the_parameters_earns_nothing(tmp_path, base):
    """Held since the probe reports the parameters it holds itself, whatever the file unregisters, and the
    parent wants every one of them back."""
    result = _grade(tmp_path, HW2, base, HIDES)
    earned = _earned(result)
    assert earned[("train_epoch", "main")] == 0, report.details(result)
    main = next(o for o in result.outcomes if o.task == "train_epoch" and o.category == "main")
    assert any("after the epoch" in line for line in main.lines), main.lines


# ----------------------------------------------------------------------------------------------
# Crashes and confusion: odd values where tensors and numbers belong (complex, bfloat16, meta, int, bool, 0-dim,
# a huge int, NaN, inf, a complex one-element tensor for the loss), in turn; and BaseExceptions that are not
# Exceptions (KeyboardInterrupt, which the probes' guard re-raises on purpose, SystemExit, GeneratorExit). All held.

ODD = PARTS2 / "rt9_crash_odd_values.py"
ODD_TASKS = ("count_parameters", "perceptron_predict", "collapse_linear", "MLP", "sgd_step", "train_epoch",
             "feature_map")


def _assert_odd_values_earn_nothing(result):
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    assert {t: earned[(t, c)] for (t, c) in earned if t in ODD_TASKS and earned[(t, c)]} == {}, report.details(result)
    kept = [t.name for t in HW2.tasks if t.name not in ODD_TASKS]  # the base's own tasks keep their credit
    assert all(earned[(t, c)] == 1 for (t, c) in earned if t in kept), report.details(result)


@pytest.mark.filterwarnings("ignore:Casting complex values")
def test_odd_dtypes_devices_and_numbers_are_scored_in_process(tmp_path):
    _assert_odd_values_earn_nothing(_grade(tmp_path, HW2, PARTS2 / "correct_base.py", ODD))


@pytest.mark.sandbox
def test_odd_dtypes_devices_and_numbers_are_scored_sandboxed(tmp_path, grade):
    _assert_odd_values_earn_nothing(grade(_write(tmp_path, HW2, PARTS2 / "correct_base.py", ODD), HW2, seed=3))




def test_a_meta_tensors_error_is_not_called_not_implemented(tmp_path):
    """torch raises NotImplementedError for a copy out of a meta tensor; the student did implement the task (held
    since runner.not_implemented counts only a NotImplementedError the submission's own code raised)."""
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", ODD)
    lines = [ln for o in result.outcomes if o.task == "feature_map" for ln in o.lines]
    assert not any(ln.startswith("not implemented:") for ln in lines), lines


INTERRUPT = PARTS1 / "rt9_crash_keyboard_interrupt.py"
LOST = ("Sigmoid", "ReLU", "Linear")


def _assert_only_the_interrupting_functions_lose(result):
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    assert all(v == 0 for (t, _), v in earned.items() if t in LOST), report.details(result)
    assert all(v == 1 for (t, _), v in earned.items() if t not in LOST), report.details(result)


def test_base_exceptions_lose_only_their_functions_in_process(tmp_path):
    _assert_only_the_interrupting_functions_lose(_grade(tmp_path, HW1, PARTS1 / "correct_base.py", INTERRUPT))


@pytest.mark.sandbox
def test_base_exceptions_lose_only_their_functions_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, PARTS1 / "correct_base.py", INTERRUPT), HW1, seed=3)
    _assert_only_the_interrupting_functions_lose(result)
    assert not any(n.startswith("started the child again") for n in result.notes), result.notes


@pytest.mark.sandbox
def test_a_keyboard_interrupt_in_hw2_fails_its_task_by_name_sandboxed(tmp_path, grade):
    """hw2's probe re-raises KeyboardInterrupt (Ctrl-C of a student's own check); the sandboxed runner fails the case
    with the exception's name instead of dying with a status the student would read as their own sys.exit."""
    part = PARTS2 / "rt17_crash_keyboard_interrupt.py"
    result = grade(_write(tmp_path, HW2, PARTS2 / "correct_base.py", part), HW2, seed=3)
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    assert all(v == 0 for (t, _), v in earned.items() if t == "count_parameters"), report.details(result)
    assert all(v == 1 for (t, _), v in earned.items() if t != "count_parameters"), report.details(result)
    lines = [ln for o in result.outcomes if o.task == "count_parameters" for ln in o.lines]
    assert any("KeyboardInterrupt" in ln for ln in lines), lines
    assert not any("exited with status" in ln for ln in lines), lines


ODD1 = PARTS1 / "rt9_crash_odd_returns.py"
ODD1_LOST = {"Square": 0, "QuadraticForm": 4.0, "Sigmoid": 0, "ReLU": 0, "Linear": 6.25, "SquaredError": 0}


@pytest.mark.parametrize("visible_only", [False, True], ids=["grade", "notebook-check"])
def test_generators_dicts_recursion_and_extra_gradients_are_scored_in_process(tmp_path, visible_only):
    """Held: each odd Function loses its checks, the correct ones keep theirs, nothing escapes engine.grade
    (visible_only: what course.check runs in the notebook's own process)."""
    path = _write(tmp_path, HW1, PARTS1 / "correct_base.py", ODD1)
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=3, isolate=False, visible_only=visible_only)
    assert not result.grader_error, result.grader_error
    earned = _earned(result)
    for task in ("Square", "Sigmoid", "ReLU", "SquaredError"):
        assert all(v == 0 for (t, _), v in earned.items() if t == task), report.details(result)
    assert earned[("QuadraticForm", "backward")] == 0 and earned[("Linear", "backward")] == 0, report.details(result)
    assert all(v == 1 for (t, _), v in earned.items() if t == "CrossEntropy"), report.details(result)


@pytest.mark.sandbox
def test_generators_dicts_recursion_and_extra_gradients_are_scored_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, PARTS1 / "correct_base.py", ODD1), HW1, seed=3)
    assert not result.grader_error, result.grader_error
    points = result.points_by_task()
    assert {t: points[t][0] for t in ODD1_LOST if t not in ("QuadraticForm", "Linear")} == \
        {t: 0 for t in ODD1_LOST if t not in ("QuadraticForm", "Linear")}, report.details(result)
    assert points["CrossEntropy"][0] == points["CrossEntropy"][1], report.details(result)




def test_a_backward_that_returns_extra_gradients_earns_no_gradcheck_credit(tmp_path):
    """Held since gradcheck refuses extra gradients that are not None, as autograd does."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", ODD1)
    earned = _earned(result)
    assert earned[("QuadraticForm", "backward")] == 0, report.details(result)
    assert earned[("QuadraticForm", "gradcheck")] == 0, report.details(result)


OVERSIZED = PARTS2 / "rt9_crash_result_over_the_frame_cap.py"


@pytest.mark.sandbox
def test_a_result_over_the_frame_cap_is_named_as_such(tmp_path):
    """Held since a result's list over probe_hw2.MAX_ITEMS goes back as its length (the runner would also fail
    only the case a frame cannot carry: runner._result_frame, tests/test_security.py)."""
    result = engine.grade(_write(tmp_path, HW2, PARTS2 / "correct_base.py", OVERSIZED), HW2, seed=3)
    assert not result.grader_error, result.grader_error
    points = result.points_by_task()
    assert points["count_parameters"][0] == 0
    assert all(got == full for t, (got, full) in points.items() if t != "count_parameters"), report.details(result)
    lines = [ln for o in result.outcomes if o.task == "count_parameters" for ln in o.lines]
    assert not any("sys.exit" in ln for ln in lines), lines
    assert any("list of 300000 items" in ln for ln in lines), lines


# ----------------------------------------------------------------------------------------------
# The static gate: a cleared gradient that is a tensor subclass of the file's own (the child reports a subclass
# as a string, which the parent's sgd_step check compares with 0) never runs: a tensor base class and
# .as_subclass are outside the language (held).


def test_a_tensor_subclass_for_a_cleared_gradient_is_refused_by_the_gate(tmp_path):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt9_crash_sgd_step_grad_subclass.py")
    assert result.score == 0, report.details(result)
    lines = [ln for o in result.outcomes for ln in o.lines]
    assert any("may not be a base class" in ln for ln in lines) and any(".as_subclass" in ln for ln in lines)


# ----------------------------------------------------------------------------------------------
# Fair: a dashboard of detached hidden activations, a match on the activation, parameters read back through
# named_parameters, add_(alpha=...) and grad.zero_(), an incremental running mean of the batch losses.

FAIR2 = PARTS2 / "rt9_fair_mlp_running_mean_and_dashboard.py"


@pytest.mark.parametrize("seed", [3, 11])
def test_an_mlp_with_a_detached_dashboard_and_a_running_mean_keeps_full_credit(tmp_path, seed):
    path = _write(tmp_path, HW2, PARTS2 / "correct_base.py", FAIR2)
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW2, seed=seed, isolate=False)
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


@pytest.mark.sandbox
def test_an_mlp_with_a_detached_dashboard_and_a_running_mean_keeps_full_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW2, PARTS2 / "correct_base.py", FAIR2), HW2, seed=3)
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


FAIR1 = PARTS1 / "rt9_fair_identities_and_einsum.py"


@pytest.mark.parametrize("seed", [3, 11])
def test_functions_through_identities_and_einsum_keep_full_credit(tmp_path, seed):
    """σ through tanh, a boolean-mask product, einsum, a ones-vector bias gradient, F.one_hot: all honest."""
    path = _write(tmp_path, HW1, PARTS1 / "correct_base.py", FAIR1)
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=seed, isolate=False)
    assert not any("numerically" in ln or "outside torch" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


@pytest.mark.sandbox
def test_functions_through_identities_and_einsum_keep_full_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, PARTS1 / "correct_base.py", FAIR1), HW1, seed=3)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
