"""A third red-team pass, against hw1's check for numerical differentiation (child/numdiff_watch.py's border
and nudge watch, hw1/compliance.py's verdicts), by someone who did not write it.

Each hostile file (tests/submissions/hw1/rt3_numdiff_*.py, appended to the correct base so its classes
replace the base's) differentiates numerically and asserts the credit it must not earn: no backward,
gradcheck or edge credit for the Functions it defines, forward's kept. Each fair file (rt3_fair_*.py)
computes its gradient with tensor operations in an unusual legitimate style and asserts full credit.
The ones the grader gets wrong today are strict xfails: remove the mark when fixed.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, report

PARTS = Path(__file__).resolve().parent / "submissions" / "hw1"
HW1 = registry.get("hw1")
BASE = PARTS / "correct_base.py"
GATED = ("backward", "gradcheck", "edge")
TASKS = [t.name for t in HW1.tasks]


def _grade(tmp_path: Path, name: str, isolate: bool = False):
    path = tmp_path / "functions.py"
    path.write_text(BASE.read_text() + "\n\n" + (PARTS / f"{name}.py").read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        return engine.grade(path, HW1, seed=3, isolate=isolate)


def _defined(name: str) -> list[str]:
    text = (PARTS / f"{name}.py").read_text()
    return [t for t in TASKS if f"class {t}(" in text]


def _open(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# (file, why it is still open). Every one of these earns full or near-full backward credit today.
HOSTILE = [
    pytest.param("rt3_numdiff_numpy_writes_into_torch", id="numpy-writes-into-torch-memory", marks=_open(
        "forward allocates the derivative with torch.empty_like and numpy writes into it through .numpy()'s "
        "shared memory: no aten op carries the values, so the Flow never sees them")),
    pytest.param("rt3_numdiff_int_bits_backward", id="int64-bit-views", marks=_open(
        "values leave as int64 bit patterns (view(torch.int64).numpy(), not floating, not counted) and come "
        "back through an int64 lift_fresh (not floating, not entered) viewed as float64")),
    pytest.param("rt3_numdiff_forward_full_numbers", id="forward-torch-full-per-number", marks=_open(
        "forward's Python numbers are neither counted nor followed: torch.full((), d) is no lift_fresh")),
    pytest.param("rt3_numdiff_output_alias_clears_taint", id="output-alias-clears-taint", marks=_open(
        "the saved buffer and forward's output are two storages at one address: clearing the output by "
        "address clears the saved derivative too")),
    pytest.param("rt3_numdiff_stacked_nudges", id="stacked-nudges-torch-only", marks=_open(
        "x ± h exists only inside torch.stack([x, x]) + steps, twice the input's size: the nudge watch "
        "compares only tensors of an input's size, and a vectorised backward never grows")),
    pytest.param("rt3_numdiff_bool_mask_relu", id="bool-mask-from-numpy", marks=_open(
        "a bool tensor brought in from numpy is not followed (only floating ones are)")),
    pytest.param("rt3_numdiff_formatted_digits", id="format-out-integers-in", marks=_open(
        "Tensor.__format__ takes values out uncounted; integer tensors bring them back unentered")),
]

FAIR = [
    pytest.param("rt3_fair_numpy_one_hot", id="numpy-one-hot-in-forward", marks=_open(
        "one-hot targets built in numpy in forward taint the gradient (softmax - one-hot) / N")),
    pytest.param("rt3_fair_numpy_forward_saves_its_arrays", id="numpy-forward-saves-its-inputs", marks=_open(
        "torch.from_numpy(x.numpy()) shares the input's memory, so the input itself is followed as a value "
        "brought in, and a gradient computed in torch from it is flagged")),
    pytest.param("rt3_fair_one_hot_from_label_list", id="one-hot-rows-from-label-list", marks=_open(
        "N·C zeros and ones from torch.tensor(list) in backward count as values brought in")),
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_numerical_derivative_past_the_border_earns_no_backward_credit(tmp_path, name):
    result = _grade(tmp_path, name)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    tasks = _defined(name)
    assert tasks
    for task in tasks:
        assert earned[(task, "forward")] == 1, report.details(result)  # forward did nothing wrong
        for category in GATED:
            assert earned[(task, category)] == 0, (task, category, report.details(result))


@pytest.mark.sandbox
@_open("as in-process: numpy writes into torch's memory are invisible in the sandboxed child too")
def test_in_the_sandbox_numpy_writes_into_torch_memory_earn_no_backward_credit(tmp_path):
    result = _grade(tmp_path, "rt3_numdiff_numpy_writes_into_torch", isolate=True)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    for task in ("Square", "Sigmoid", "ReLU"):
        assert all(earned[(task, c)] == 0 for c in GATED), (task, report.details(result))


@pytest.mark.parametrize("name", FAIR)
def test_honest_gradients_in_torch_keep_full_credit(tmp_path, name):
    result = _grade(tmp_path, name)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
