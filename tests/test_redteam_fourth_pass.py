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


# Each hole this pass found, closed in child/numdiff_watch.py: a float's bits read as integers on their
# way out (view to an integer dtype) and integers brought in (origins of their distinct values); yes/no
# reads counted (`__bool__`, `__index__`: eight per element is bit-by-bit, not an element loop); a Python
# number handed to any op is an origin its results carry; the output's low bits read in backward through
# an integer view.
HOSTILE = [
    pytest.param("rt4_numdiff_int_bits_out_small_ints_in", id="int-bits-out-small-ints-in"),
    pytest.param("rt4_numdiff_bool_bits_out_planes_in", id="bool-questions-out-zero-one-planes-in"),
    pytest.param("rt4_numdiff_forward_scalar_arithmetic", id="forward-python-numbers-as-op-arguments"),
    pytest.param("rt4_numdiff_slope_in_output_low_bits", id="slope-in-output-low-bits"),
]

# The false positives it found, fixed: what forward computes in torch from its own numpy output is clean
# (the output's origins are dropped everywhere when forward returns); an origin counts its distinct values.
FAIR = [
    pytest.param("rt4_fair_numpy_sigmoid_caches_slope", id="numpy-forward-slope-from-output-in-torch"),
    pytest.param("rt4_fair_numpy_constant_table", id="numpy-constant-table-saved"),
    pytest.param("rt4_fair_debug_prints", id="debug-prints-and-f-strings"),
    pytest.param("rt4_fair_item_in_element_loop", id="scalar-upstream-item-read-per-element"),
    pytest.param("rt4_fair_border_habits", id="numpy-mask-shape-ints-numpy-targets-row-scale"),
]


def test_tolist_of_a_saved_tensor_in_backward_is_held_to_the_rule(tmp_path):
    # The policy (handout rule 2): the grader cannot tell a check on .tolist()'s values from arithmetic on
    # them, so backward taking its inputs' values out costs that Function; torch.isfinite(x).all() does not.
    result = _grade(tmp_path, "rt4_fair_tolist_sanity_check")
    comp = next(o for o in result.outcomes if o.task == "Square" and o.category == "compliance")
    assert comp.fraction == 0 and "`.tolist()`" in comp.lines[0], comp.lines
    assert result.score < HW1.total_points


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
