"""A second red-team pass against the merged grader (issue 21's "done when"), by someone who did not
write it: new classes of attack, each a hostile part appended to the untouched stub (or planted in a
correct file), asserting the credit it must not earn; honest code beside each fix keeps its credit.

What this pass tried that stayed refused or earned nothing is listed in the pass's report; the tests
here cover the holes it found (and, as strict xfails, the ones still open — remove the mark when fixed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, report

ROOT = Path(__file__).resolve().parents[1]
HW1 = registry.get("hw1")
PARTS = ROOT / "tests" / "submissions" / "hw1"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"
BASE = PARTS / "correct_base.py"


def _write(tmp_path: Path, *texts: str) -> Path:
    path = tmp_path / "functions.py"
    path.write_text("\n\n".join(texts))
    return path


def _points(result) -> dict[str, float]:
    return {task: earned for task, (earned, _possible) in result.points_by_task().items()}


def test_functions_that_compute_nothing_earn_no_compliance_credit(tmp_path):
    result = engine.grade(_write(tmp_path, STUB.read_text(), (PARTS / "idle_rule_followers.py").read_text()),
                          HW1, seed=3, isolate=False)
    assert result.score == 0, report.table(result)
    lines = [ln for o in result.outcomes if o.category == "compliance" for ln in o.lines]
    assert any("no forward or backward case right yet" in ln for ln in lines), lines


def test_a_right_forward_with_a_wrong_backward_keeps_its_compliance_credit(tmp_path):
    wrong_backward = '''
class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x  # forgot the 2
'''
    result = engine.grade(_write(tmp_path, BASE.read_text(), wrong_backward), HW1, seed=3, isolate=False)
    comp = next(o for o in result.outcomes if o.task == "Square" and o.category == "compliance")
    assert comp.fraction == 1.0, comp.lines


# Open: numerical differentiation outside torch. The watch (probe_hw1._Watch) sees aten ops only; numpy's
# arithmetic and Python floats never reach torch's dispatcher, and float64 central differences are
# accurate enough for the accuracy cases. Strict: when a fix lands these fail, and the mark goes.
@pytest.mark.xfail(strict=True, reason="open: numerical differentiation in numpy or Python floats is not seen")
@pytest.mark.parametrize("name", ["numdiff_numpy_outside_torch", "numdiff_python_floats"])
def test_numerical_differentiation_outside_torch_earns_no_backward_credit(tmp_path, name):
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{name}.py").read_text()),
                          HW1, seed=3, isolate=False)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    for task in ("Square", "Sigmoid", "ReLU"):
        assert earned[(task, "backward")] == 0 and earned[(task, "gradcheck")] == 0, report.table(result)


def test_hw2_constants_of_the_right_shapes_earn_nothing(tmp_path):
    stub = ROOT / "assignments" / "hw2_mlp" / "mlp.py"
    path = tmp_path / "mlp.py"
    path.write_text(stub.read_text() + "\n\n" + (ROOT / "tests" / "submissions" / "hw2" / "idle_constants.py").read_text())
    result = engine.grade(path, registry.get("hw2"), seed=3, isolate=False)
    assert result.score == 0, report.table(result)
    contract = next(o for o in result.outcomes if o.task == "perceptron_train" and o.category == "compliance")
    assert "no random case is right yet" in contract.lines[0], contract.lines
