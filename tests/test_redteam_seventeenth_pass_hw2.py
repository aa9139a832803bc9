"""A seventeenth red-team pass on hw2's grader, by someone who did not write it.

The hw2 parts (tests/submissions/hw2/rt17_*.py) are appended to hw2's correct base, so their definitions replace
the base's. This pass found no file that earns hw2 credit it should not. It found honest styles that lost credit
(a torch.nn.Sequential of the file's own layers, np.mean as train_epoch's loss, torch.diff / searchsorted /
multi_dot), now fixed, each with a fair file (rt17_fair_*.py) asserting full credit; and a check that held only
through another (the spiral case passed an MLP of torch built-ins; main's zero hid it), now holding on its own,
with a hostile file asserting the credit it must not earn.
"""

from __future__ import annotations

import pytest
from test_redteam_fifth_pass import HW2, PARTS2, _earned, _grade

from course_nn.grading import report

CATEGORIES = ("main", "edge", "compliance")
BASE2 = PARTS2 / "correct_base.py"


def _full(result, task: str) -> None:
    earned = _earned(result)
    assert {c: earned[(task, c)] for c in CATEGORIES} == dict.fromkeys(CATEGORIES, 1.0), report.details(result)


# ----------------------------------------------------------------------------------------------
# MLP: the contract line "the model holds torch.nn layers" fired on any torch.nn.Sequential among the submodules,
# so an MLP that is a Sequential of the file's own layer modules (each calling the given Functions, the numbers
# exactly those of the given Functions) lost its compliance. A container is a style; the layers it holds are
# what the line is about (mlp.TORCH_LAYERS), and the numbers decide whether forward went through the Functions.

def test_a_sequential_of_the_files_own_layers_keeps_full_credit(tmp_path):
    """Held since mlp._mlp_contract names only torch.nn's computing layers (Linear, ReLU, Sigmoid, ...)."""
    result = _grade(tmp_path, HW2, BASE2, PARTS2 / "rt17_fair_mlp_sequential_of_own_layers.py")
    _full(result, "MLP")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


def test_a_sequential_of_torch_linear_layers_still_earns_nothing_and_names_the_layer(tmp_path):
    result = _grade(tmp_path, HW2, BASE2, PARTS2 / "rt17_mlp_sequential_of_torch_layers.py")
    earned = _earned(result)
    assert {c: earned[("MLP", c)] for c in CATEGORIES} == dict.fromkeys(CATEGORIES, 0.0), report.details(result)
    lines = [line for o in result.outcomes if o.task == "MLP" for line in o.lines]
    assert any("torch.nn layers (Linear)" in line for line in lines), lines


# ----------------------------------------------------------------------------------------------
# train_epoch: the probe read the returned loss only from an exact int, float or one-element tensor. np.mean of
# the losses is a numpy.float64 (a float subclass, the right value): the loss came back as nothing and every
# train_epoch case failed ("returned float64, expected the mean batch loss"). The probe now reads a numpy scalar
# by torch.as_tensor, only when its type is numpy's own (a class of the file's is never), and numpy's float64
# counts as a float for the contract (mlp.FLOATS).

def test_a_train_epoch_returning_numpys_mean_keeps_full_credit(tmp_path):
    """Held since probe_hw2._number reads numpy scalars and check_epoch takes numpy.float64 as a float."""
    result = _grade(tmp_path, HW2, BASE2, PARTS2 / "rt17_fair_train_epoch_numpy_mean.py")
    _full(result, "train_epoch")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


@pytest.mark.sandbox
def test_a_train_epoch_returning_numpys_mean_keeps_full_credit_sandboxed(tmp_path, grade):
    path = tmp_path / HW2.submission
    path.write_text(BASE2.read_text() + "\n\n" + (PARTS2 / "rt17_fair_train_epoch_numpy_mean.py").read_text())
    result = grade(path, HW2, seed=3)
    assert not result.grader_error, result.grader_error
    _full(result, "train_epoch")


def test_numpy_scalars_are_read_as_numbers_and_nothing_else_is():
    import numpy as np
    import torch

    from course_nn.grading.child.probe_hw2 import _number

    assert _number(np.float64(0.25)) == 0.25
    assert _number(np.float32(0.5)) == 0.5
    assert _number(torch.tensor([1.5])) == 1.5
    assert _number(np.array([1.0, 2.0])) is None  # not one number
    assert _number(np.array([object()], dtype=object)) is None  # torch refuses it: nothing of the object runs
    assert _number("0.25") is None and _number(torch.zeros(2)) is None


# ----------------------------------------------------------------------------------------------
# Honest styles that already kept full credit, kept as regressions: functools.reduce over a generator of layer
# numbers with float64 parameters and a He-style init; the activation picked from a dict of the given Functions
# with the parameters in a ParameterList; sgd_step under the @torch.no_grad() decorator through .data; train_epoch
# with torch.autograd.grad and .grad set by hand.

@pytest.mark.parametrize("part", ["rt17_fair_mlp_reduce_float64.py", "rt17_fair_mlp_function_dict_decorated_step.py"])
def test_unusual_honest_mlp_and_training_styles_keep_full_credit(tmp_path, part):
    result = _grade(tmp_path, HW2, BASE2, PARTS2 / part)
    for task in ("MLP", "sgd_step", "train_epoch"):
        _full(result, task)


# ----------------------------------------------------------------------------------------------
# The first two sections: torch.diff (relu_interpolant's slopes, step_approximation's jumps), torch.searchsorted /
# bucketize and torch.linalg.multi_dot (collapse_linear's W_L ⋯ W_1) were not on hw2's list, so an honest file that
# used one was refused as a whole: every check of every task lost its credit. They are pure tensor math that calls
# no code of the file's; hw2's registry lists them (registry/hw2.py DIFFERENCES, the handout regenerated).

DIFFS = PARTS2 / "rt17_fair_differences_and_chained_products.py"


def test_differences_and_chained_products_pass_the_gate():
    from course_nn.grading import review

    verdict = review.check(BASE2.read_text() + "\n\n" + DIFFS.read_text(), HW2)
    assert not verdict.violations, [v.text() for v in verdict.violations]


def test_differences_and_chained_products_keep_full_credit(tmp_path):
    result = _grade(tmp_path, HW2, BASE2, DIFFS)
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# MLP, the spiral case: its data-flow check (mlp._flow, one marked forward and backward before training) named
# only an output that a dropped mark explains; any other wrong output passed to the accuracy check. A model of
# torch built-ins with the given Functions called beside at weight zero and its logits scaled by 1.01 trained to
# pass the spiral. It earned nothing (its forward cases fail, and main 0 zeroes edge), but the spiral case alone
# did not hold: now an output that is not the given Functions' MLP fails it (mlp.SPIRAL_OFF).

BESIDE = PARTS2 / "rt17_mlp_builtins_beside_zero_weighted_calls.py"


def test_torch_builtins_beside_zero_weighted_calls_fail_the_spiral_case_too(tmp_path):
    result = _grade(tmp_path, HW2, BASE2, BESIDE)
    earned = _earned(result)
    assert {c: earned[("MLP", c)] for c in CATEGORIES} == dict.fromkeys(CATEGORIES, 0.0), report.details(result)
    edge = next(o for o in result.outcomes if o.task == "MLP" and o.category == "edge")
    assert any("trains on spiral" in line and "spiral's first 8 points" in line for line in edge.lines), edge.lines
