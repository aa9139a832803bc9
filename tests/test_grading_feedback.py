"""grading/feedback.py (the one comparator of the graders, compare and trace) and the graders' tables."""

from __future__ import annotations

import math

import torch

from course_nn import registry
from course_nn.data.tasks import spiral
from course_nn.grading import feedback, hw1
from course_nn.grading import hw2 as hw2_grader
from course_nn.grading.hw2 import mlp


def test_the_worst_entry_is_shown_and_the_first_on_request():
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    actual = torch.tensor([[1.1, 2.0], [3.0, 40.0]])
    worst = feedback.mismatch(actual, expected, 1e-6, 1e-9)
    first = feedback.mismatch(actual, expected, 1e-6, 1e-9, first=True)
    assert worst.index == (1, 1) and worst.expected == 4.0 and worst.count == 2 and worst.total == 4
    assert first.index == (0, 0)
    assert feedback.mismatch(expected.clone(), expected, 1e-6, 1e-9) is None


def test_infinity_matches_itself_unless_finite_values_are_required():
    inf = torch.tensor([math.inf])
    assert feedback.mismatch(inf, inf, 1e-6, 1e-9) is None  # the graders: a large logit may overflow alike
    assert feedback.mismatch(inf, inf, 1e-6, 1e-9, finite=True) is not None  # compare and trace


def test_a_hidden_difference_names_the_entry_but_never_the_values():
    expected, actual = torch.tensor([0.5, 0.25]), torch.tensor([0.5, 0.125])
    visible = feedback.difference("w", actual, expected, True, 1e-6, 1e-9)
    hidden = feedback.difference("w", actual, expected, False, 1e-6, 1e-9)
    assert visible == "w[1]: expected 0.25, got 0.125 (relative error 5.0e-01)"
    assert hidden.startswith("w[1]: relative error 5.0e-01") and "0.25" not in hidden and "0.125" not in hidden
    assert feedback.difference("w", actual[:1], expected, True, 1e-6, 1e-9) == "w has shape (1,), expected (2,)"


def test_every_task_has_exactly_one_grader():
    hw1_tasks = {t.name for t in registry.get("hw1").tasks}
    hw2_tasks = {t.name for t in registry.get("hw2").tasks}
    assert set(hw1.SPECS) == hw1_tasks
    assert set(hw2_grader.GRADERS) == hw2_tasks


def test_hw2_grades_the_mlp_on_the_spiral_the_trainer_uses():
    case = next(c for c in hw2_grader.make_cases(registry.get("hw2"), 3, True)["MLP"] if c.get("mode") == "spiral")
    data_seed = case["seed"] - 2  # the case trains with seed data_seed + 2 (weights: data_seed + 1)
    x, y = spiral(mlp.SPIRAL["n_train"], torch.Generator().manual_seed(data_seed))
    assert torch.equal(case["x"], x) and torch.equal(case["y"], y)
