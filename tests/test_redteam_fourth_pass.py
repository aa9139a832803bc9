"""A fourth red-team pass on hw1's border check for numerical differentiation (child/numdiff_watch.py,
hw1/compliance.py), by someone who did not write it.

Each hostile file (tests/submissions/hw1/rt4_numdiff_*.py, appended to the correct base so its classes replace
the base's) differentiates numerically and asserts the credit it must not earn: no backward, gradcheck or edge
credit for the Functions it defines, forward's kept. Each fair file (rt4_fair_*.py) computes its gradient with
tensor operations in an unusual legitimate style and asserts full credit. The ones the grader gets wrong today
are strict xfails: remove the mark when fixed.
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


def _grade(tmp_path: Path, name: str):
    path = tmp_path / "functions.py"
    path.write_text(BASE.read_text() + "\n\n" + (PARTS / f"{name}.py").read_text())
    with contextlib.redirect_stdout(io.StringIO()):  # a fair file prints while debugging
        return engine.grade(path, HW1, seed=3, isolate=False)


def _defined(name: str) -> list[str]:
    text = (PARTS / f"{name}.py").read_text()
    return [t for t in TASKS if f"class {t}(" in text]


def _open(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


HOSTILE = [
    pytest.param("rt4_numdiff_int_bits_out_small_ints_in", id="int-bits-out-small-ints-in", marks=_open(
        "values leave as integers that are not a view of the float (x.view(int64) + 0, then .tolist(): counted "
        "as labels) and come back as integers below 2**20 (not carried): nothing floating crosses the border")),
    pytest.param("rt4_numdiff_bool_bits_out_planes_in", id="bool-questions-out-zero-one-planes-in", marks=_open(
        "values leave one bit at a time through Tensor.__bool__ (not counted) and come back as 0.0/1.0 bit "
        "planes (a mask to the grader), rebuilt with a matrix-vector product")),
    pytest.param("rt4_numdiff_forward_scalar_arithmetic", id="forward-python-numbers-as-op-arguments", marks=_open(
        "forward may read its input as Python floats, and a number handed to an op in forward (zero + s) is "
        "neither counted nor followed (only full/fill_ and lift_fresh are): the stacked slopes are saved clean")),
    pytest.param("rt4_numdiff_slope_in_output_low_bits", id="slope-in-output-low-bits", marks=_open(
        "forward's own output is exempt, and its lowest 31 bits carry the numpy slope inside forward's "
        "tolerance (only when the input requires grad, so gradcheck's forward-only values are clean)")),
]

FAIR = [
    pytest.param("rt4_fair_numpy_sigmoid_caches_slope", id="numpy-forward-slope-from-output-in-torch", marks=_open(
        "s * (1 - s) and the mask (out > 0) are computed in torch from forward's numpy output before forward "
        "returns: they inherit the output's origin, which forward_output clears only for the output's own "
        "storage")),
    pytest.param("rt4_fair_numpy_constant_table", id="numpy-constant-table-saved", marks=_open(
        "np.full(shape, 2/n) is one constant, but a table brought in is an origin of its size, as large as the "
        "gradient")),
    pytest.param("rt4_fair_tolist_sanity_check", id="tolist-only-for-an-assertion", marks=_open(
        "x.tolist() counts every element as taken out, though nothing taken out comes back into torch")),
    pytest.param("rt4_fair_debug_prints", id="debug-prints-and-f-strings"),
    pytest.param("rt4_fair_item_in_element_loop", id="scalar-upstream-item-read-per-element"),
    pytest.param("rt4_fair_border_habits", id="numpy-mask-shape-ints-numpy-targets-row-scale"),
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


@pytest.mark.parametrize("name", FAIR)
def test_honest_gradients_in_torch_keep_full_credit(tmp_path, name):
    result = _grade(tmp_path, name)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
