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


# Numerical differentiation outside torch (numpy on a CPU copy, Python floats) is invisible to the
# dispatch recorder, and float64 central differences pass the accuracy cases. What the child sees is the
# border (child/numdiff_watch.py): values backward takes out, values it brings in (every tensor made from
# numpy, a list or a number is born in aten.lift_fresh; numbers handed to ops arrive as arguments), and
# gradients built from values forward brought in. The rule (handout rule 2): backward computes its
# gradient with tensor operations; one that crosses the border with its inputs' worth of values earns no
# backward, gradcheck or edge credit. Numpy in forward, constants, .item() and integer labels stay fair.
OUTSIDE = ["numdiff_numpy_outside_torch", "numdiff_python_floats"]
# Forward does the numerical work and backward is torch only: a numpy derivative saved with
# save_for_backward, Python floats kept on ctx and written back one number at a time, one-element
# tensors stacked, and a derivative hidden in the same numpy buffer as forward's output.
STASHED = ["numdiff_stashed_in_forward_numpy", "numdiff_stashed_as_python_numbers",
           "numdiff_stashed_stacked_numbers", "numdiff_stashed_beside_the_output"]
NUMDIFF_TASKS = ("Square", "Sigmoid", "ReLU")
OUTSIDE_LINE = "computes its gradient outside torch"


def _outside(result) -> dict[str, list[str]]:
    """Per Function: its compliance lines about computing the gradient outside torch."""
    return {o.task: [ln for ln in o.lines if OUTSIDE_LINE in ln] for o in result.outcomes if o.category == "compliance"}


def _lost(result, tasks) -> None:
    earned = {(o.task, o.category): o.fraction for o in result.outcomes}
    for task in tasks:
        for category in ("backward", "gradcheck", "edge", "compliance"):
            assert earned[(task, category)] == 0, (task, category, report.details(result))
        assert earned[(task, "forward")] == 1, report.details(result)  # forward itself did nothing wrong


@pytest.mark.parametrize("name", [pytest.param(OUTSIDE[0], marks=pytest.mark.sandbox), *OUTSIDE[1:], *STASHED])
def test_numerical_differentiation_outside_torch_earns_no_backward_credit(tmp_path, name):
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{name}.py").read_text()),
                          HW1, seed=3, isolate=name == OUTSIDE[0])  # once through the sandboxed child
    tasks = [t for t in NUMDIFF_TASKS if f"class {t}(" in (PARTS / f"{name}.py").read_text()]
    if name == "numdiff_stashed_as_python_numbers":
        # ReLU's numerical derivative is 0 or 1 away from the kink: the same few Python numbers an analytic
        # per-element loop hands torch, so the border does not see it. Its random cases each hold one entry
        # within 2e-9 of the kink, which a finite-difference step straddles: no backward credit, with a hint.
        # The residual (docs/security.md): gradcheck's points stay away from the kink, so that credit stays.
        tasks.remove("ReLU")
        relu = {o.category: o for o in result.outcomes if o.task == "ReLU"}
        assert relu["backward"].fraction == 0 and "straddles the kink" in relu["backward"].lines[0], relu["backward"].lines
        assert relu["edge"].fraction < 1 and "tiny |z|" in " ".join(relu["edge"].lines), relu["edge"].lines
    assert tasks
    _lost(result, tasks)
    lines = _outside(result)
    for task in tasks:
        assert lines[task] and lines[task][0].startswith(f"{task}.backward {OUTSIDE_LINE} in "), lines
        assert "torch operations" in lines[task][0] and "numerical derivative" in lines[task][0]
    for task in ("Linear", "SquaredError", "CrossEntropy", *(t for t in NUMDIFF_TASKS if t not in tasks)):
        assert not lines[task], lines  # the base's torch-only Functions: nothing
    gated = next(o for o in result.outcomes if o.task == tasks[0] and o.category == "backward")
    assert gated.lines[0].startswith("no credit: ") and OUTSIDE_LINE in gated.lines[0], gated.lines


def test_switching_off_the_count_of_values_leaving_torch_is_seen_as_tampering(tmp_path, monkeypatch, grade):
    # The watch lives beside the probe in the sandbox (child/numdiff_watch.py); the runner fingerprints it
    # with the probe. The gate (off here, so the finding is the fingerprint's alone) zeroes such a file anyway.
    from course_nn.grading import review

    monkeypatch.setattr(review, "check", lambda source, assignment: review.Verdict())
    silence = "import sys\n\nsys.modules['numdiff_watch']._Watch.left = lambda self, name, args: None\n"
    result = grade(_write(tmp_path, BASE.read_text(), (PARTS / f"{OUTSIDE[0]}.py").read_text(), silence), HW1, seed=3)
    comp = next(o for o in result.outcomes if o.task == "Sigmoid" and o.category == "compliance")
    assert comp.fraction == 0 and "replaced code the grader or autograd relies on" in comp.lines[0], comp.lines


def test_an_analytic_backward_in_numpy_is_held_to_the_rule(tmp_path):
    # The policy, stated in the handout: the grader cannot tell numpy's s(1 - s) from a numpy finite
    # difference, so a gradient computed in numpy earns no backward credit however it was derived.
    result = engine.grade(_write(tmp_path, BASE.read_text(), (PARTS / "numpy_analytic_backward.py").read_text()),
                          HW1, seed=3, isolate=False)
    _lost(result, ["Sigmoid"])
    lines = _outside(result)
    assert "`.numpy()`" in lines["Sigmoid"][0] and "numpy in forward is fine" in lines["Sigmoid"][0], lines
    assert not any(lines[t] for t in lines if t != "Sigmoid"), lines


@pytest.mark.parametrize("name", ["fair_constants_and_row_loops", "fair_numpy_and_stdlib"])
def test_honest_code_at_torchs_border_keeps_full_credit(tmp_path, name):
    # Constants from torch.tensor / new_tensor (in backward, or saved in forward), a module-level tensor,
    # .item() of the upstream gradient, integer labels as a list, row loops, a forward computed in numpy.
    result = engine.grade(_write(tmp_path, (PARTS / f"{name}.py").read_text()), HW1, seed=3, isolate=False)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
    assert not any(_outside(result).values())


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
        assert not any(_outside(result).values())


def test_hw2_constants_of_the_right_shapes_earn_nothing(tmp_path):
    stub = ROOT / "assignments" / "hw2_mlp" / "mlp.py"
    path = tmp_path / "mlp.py"
    path.write_text(stub.read_text() + "\n\n" + (ROOT / "tests" / "submissions" / "hw2" / "idle_constants.py").read_text())
    result = engine.grade(path, registry.get("hw2"), seed=3, isolate=False)
    assert result.score == 0, report.table(result)
    contract = next(o for o in result.outcomes if o.task == "perceptron_train" and o.category == "compliance")
    assert "no random case is right yet" in contract.lines[0], contract.lines


@pytest.mark.sandbox
def test_grade_batch_charges_a_gradient_computed_outside_torch(tmp_path):
    from course_nn.grading import cli_batch

    folder = tmp_path / "class" / "mallory"
    folder.mkdir(parents=True)
    _write(folder, BASE.read_text(), (PARTS / f"{OUTSIDE[0]}.py").read_text())
    row = cli_batch._grade_student("mallory", str(folder), "hw1", 3, str(tmp_path / "mallory.json"), 30.0, 2 << 30,
                                   zygote=False)
    lost = sum(HW1.max_score(HW1.task(t), c) for t in NUMDIFF_TASKS for c in HW1.categories
               if c.key in ("backward", "gradcheck", "edge", "compliance"))
    assert row["status"] == "ok" and row["score"] == pytest.approx(HW1.total_points - lost), row
