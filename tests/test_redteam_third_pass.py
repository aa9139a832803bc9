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


# (file, Functions that must lose their credit). Each hole this pass found, now closed in
# child/numdiff_watch.py: memory numpy wrote into through .numpy() (snapshots), float bits reinterpreted
# from integers (view.dtype; large integers brought in), numbers turned into tensors by full / fill_,
# two storages over one address (memory intervals), a format spec reading a number's digits.
HOSTILE = [
    pytest.param("rt3_numdiff_numpy_writes_into_torch", None, id="numpy-writes-into-torch-memory"),
    pytest.param("rt3_numdiff_int_bits_backward", None, id="int64-bit-views"),
    # ReLU's one-sided steps here never straddle the kink and give exactly 0 or 1: values the grader
    # treats as data (a mask), like the analytic [z > 0]; the residual is in docs/security.md.
    pytest.param("rt3_numdiff_forward_full_numbers", ("Square",), id="forward-torch-full-per-number"),
    pytest.param("rt3_numdiff_output_alias_clears_taint", None, id="output-alias-clears-taint"),
    # x ± h exists only inside torch.stack([x, x]) + steps: the watch compares each stacked copy too.
    pytest.param("rt3_numdiff_stacked_nudges", ("ReLU",), id="stacked-nudges-torch-only"),
    pytest.param("rt3_numdiff_stacked_nudges", ("Square",), id="stacked-square-any-step", marks=_open(
        "Square's step |x| + 1 is neither small nor uniform, so the stacked copy is no nudge the watch knows, "
        "and a square's central difference (a² - b²) / (a - b) = a + b is exact at any step: the values are "
        "the analytic derivative's (docs/security.md, residuals)")),
    pytest.param("rt3_numdiff_bool_mask_relu", None, id="bool-mask-from-numpy", marks=_open(
        "a 0/1 mask brought in from numpy is data to the grader (one-hot rows and masks are honest); a "
        "slope measured without straddling the kink is exactly the analytic mask (docs/security.md)")),
    pytest.param("rt3_numdiff_formatted_digits", None, id="format-out-integers-in"),
]

FAIR = [
    pytest.param("rt3_fair_numpy_one_hot", id="numpy-one-hot-in-forward"),
    pytest.param("rt3_fair_numpy_forward_saves_its_arrays", id="numpy-forward-saves-its-inputs"),
    pytest.param("rt3_fair_one_hot_from_label_list", id="one-hot-rows-from-label-list"),
]


@pytest.mark.parametrize(("name", "only"), HOSTILE)
def test_a_numerical_derivative_past_the_border_earns_no_backward_credit(tmp_path, name, only):
    result = _grade(tmp_path, name)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    tasks = list(only or _defined(name))
    assert tasks
    for task in tasks:
        assert earned[(task, "forward")] == 1, report.details(result)  # forward did nothing wrong
        for category in GATED:
            assert earned[(task, category)] == 0, (task, category, report.details(result))


@pytest.mark.sandbox
def test_in_the_sandbox_numpy_writes_into_torch_memory_earn_no_backward_credit(tmp_path):
    result = _grade(tmp_path, "rt3_numdiff_numpy_writes_into_torch", isolate=True)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    for task in ("Square", "Sigmoid", "ReLU"):
        assert all(earned[(task, c)] == 0 for c in GATED), (task, report.details(result))


@pytest.mark.parametrize("name", FAIR)
def test_honest_gradients_in_torch_keep_full_credit(tmp_path, name):
    result = _grade(tmp_path, name)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
