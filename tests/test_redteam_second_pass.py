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


# Numerical differentiation outside torch (numpy on a CPU copy, Python floats) is invisible to the watch
# (child/numdiff_watch.py sees aten ops only), and float64 central differences pass the accuracy cases.
# Honest code may compute its backward in numpy too (issue 22), so the policy is review by hand: the child
# counts the values a backward takes out of torch, and a backward that takes its inputs' worth in half the
# cases gets a tip (no points) and an instructor note naming it. Credit is unchanged.
OUTSIDE = ["numdiff_numpy_outside_torch", "numdiff_python_floats"]
LEFT_TORCH = "computed outside torch (numpy/Python numbers)"


def _flags(result) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per Function: the student's tips about leaving torch, and the staff's review-by-hand notes."""
    tips = {o.task: [ln for ln in o.lines if "takes its values out of torch" in ln]
            for o in result.outcomes if o.category == "backward"}
    notes = {o.task: [ln for ln in o.review if LEFT_TORCH in ln] for o in result.outcomes if o.category == "compliance"}
    return tips, notes


@pytest.mark.parametrize("name", [pytest.param(OUTSIDE[0], marks=pytest.mark.sandbox), OUTSIDE[1]])
def test_numerical_differentiation_outside_torch_is_flagged_for_review_by_hand(tmp_path, name):
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{name}.py").read_text()),
                          HW1, seed=3, isolate=name == OUTSIDE[0])  # once through the sandboxed child
    tips, notes = _flags(result)
    for task in ("Square", "Sigmoid", "ReLU"):
        assert tips[task] and tips[task][0].startswith("tip (no points lost): "), report.details(result)
        assert "numerical derivative" in tips[task][0] and "tensor operations" in tips[task][0]
        note = f"{task}.backward {LEFT_TORCH} in 10 of 10 cases: review by hand for numerical differentiation"
        assert notes[task] == [note], notes
        assert note in result.notes  # results.json's notes for the staff, and grade-batch's note column
    for task in ("Linear", "SquaredError", "CrossEntropy"):  # the base's torch-only Functions: nothing
        assert not tips[task] and not notes[task], (tips, notes)
    data = report.results_json(result)
    hidden = [t for t in data["tests"] if t["visibility"] == "hidden" and "review" in t["tags"]]
    assert any("Sigmoid.backward " + LEFT_TORCH in t["output"] for t in hidden)
    assert any("Sigmoid.backward " + LEFT_TORCH in n for n in data["extra_data"]["notes"])


def test_switching_off_the_count_of_values_leaving_torch_is_seen_as_tampering(tmp_path, monkeypatch, grade):
    # The watch lives beside the probe in the sandbox (child/numdiff_watch.py); the runner fingerprints it
    # with the probe. The gate (off here, so the finding is the fingerprint's alone) zeroes such a file anyway.
    from course_nn.grading import review

    monkeypatch.setattr(review, "check", lambda source, assignment: review.Verdict())
    silence = "import sys\n\nsys.modules['numdiff_watch']._Watch.left = lambda self, name, args: None\n"
    result = grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{OUTSIDE[0]}.py").read_text(), silence), HW1, seed=3)
    comp = next(o for o in result.outcomes if o.task == "Sigmoid" and o.category == "compliance")
    assert comp.fraction == 0 and "replaced code the grader or autograd relies on" in comp.lines[0], comp.lines


@pytest.mark.xfail(strict=True, reason="policy: review by hand, not charged (honest numpy backwards are fair)")
@pytest.mark.parametrize("name", OUTSIDE)
def test_numerical_differentiation_outside_torch_earns_no_backward_credit(tmp_path, name):
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{name}.py").read_text()),
                          HW1, seed=3, isolate=False)
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    for task in ("Square", "Sigmoid", "ReLU"):
        assert earned[(task, "backward")] == 0 and earned[(task, "gradcheck")] == 0, report.table(result)


def test_an_analytic_backward_in_numpy_keeps_full_credit_and_is_only_flagged(tmp_path):
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / "numpy_analytic_backward.py").read_text()),
                          HW1, seed=3, isolate=False)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
    tips, notes = _flags(result)
    assert tips["Sigmoid"] and notes["Sigmoid"], (tips, notes)  # a review flag, not a penalty
    assert not any(tips[t] or notes[t] for t in tips if t != "Sigmoid"), (tips, notes)


def test_torch_only_code_and_a_scalar_upstream_item_get_no_flag(tmp_path):
    solution = (ROOT / "solutions" / "hw1_autograd" / "functions.py").read_text()
    # The losses' upstream gradient is 0-dim: reading it as a Python number is no derivative outside torch.
    scalar = (solution.replace("grad_output * local if", "grad_output.item() * local if")
              .replace("-grad_output * local if", "-grad_output.item() * local if")
              .replace("grad_output * (probs - y)", "grad_output.item() * (probs - y)"))
    assert scalar.count("grad_output.item()") == 3
    for text in (solution, scalar):
        result = engine.grade(_write(tmp_path, text), HW1, seed=3, isolate=False)
        assert result.score == pytest.approx(HW1.total_points), report.details(result)
        tips, notes = _flags(result)
        assert not any(tips.values()) and not any(notes.values()), (tips, notes)
        assert not any(LEFT_TORCH in n for n in result.notes)


def test_hw2_constants_of_the_right_shapes_earn_nothing(tmp_path):
    stub = ROOT / "assignments" / "hw2_mlp" / "mlp.py"
    path = tmp_path / "mlp.py"
    path.write_text(stub.read_text() + "\n\n" + (ROOT / "tests" / "submissions" / "hw2" / "idle_constants.py").read_text())
    result = engine.grade(path, registry.get("hw2"), seed=3, isolate=False)
    assert result.score == 0, report.table(result)
    contract = next(o for o in result.outcomes if o.task == "perceptron_train" and o.category == "compliance")
    assert "no random case is right yet" in contract.lines[0], contract.lines


@pytest.mark.sandbox
def test_grade_batch_lists_the_review_note_in_its_note_column(tmp_path):
    from course_nn.grading import cli_batch

    folder = tmp_path / "class" / "mallory"
    folder.mkdir(parents=True)
    _write(folder, BASE.read_text(), (PARTS / f"{OUTSIDE[0]}.py").read_text())
    row = cli_batch._grade_student("mallory", str(folder), "hw1", 3, str(tmp_path / "mallory.json"), 30.0, 2 << 30,
                                   zygote=False)
    assert row["score"] == pytest.approx(HW1.total_points, abs=2), row  # credit kept: review by hand
    for task in ("Square", "Sigmoid", "ReLU"):
        assert f"{task}.backward {LEFT_TORCH}" in row["note"], row["note"]
    assert "Linear.backward" not in row["note"] and "run id" not in row["note"], row["note"]
