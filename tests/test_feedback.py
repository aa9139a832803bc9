"""Feedback that teaches: one test per message, each on the mistake that triggers it.

Planted mistakes are small files in tests/submissions/hw1|hw2/msg_*.py, appended to a correct base
(a later definition replaces the earlier one), graded in-process where isolation is not the point.
Also: hidden-case exceptions show only their type and the case's description, returned values are
type-checked before any of their methods runs, and hw2 honours the runner's tampering flag.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
import torch

from course_nn import registry
from course_nn.grading import engine, hw1, hw2
from course_nn.grading.child import probe_hw1, probe_hw2
from course_nn.grading.outcome import TIP

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
HW1_BASE = SUBMISSIONS / "hw1" / "correct_base.py"
HW2_BASE = ROOT / "solutions" / "hw2_mlp" / "mlp.py"


def graded(tmp_path: Path, assignment, mistake: str, seed: int = 4242):
    """Grade the correct base followed by tests/submissions/<hw>/<mistake>.py, in-process."""
    base = HW1_BASE if assignment is HW1 else HW2_BASE
    path = tmp_path / assignment.submission
    path.write_text(base.read_text() + "\n\n" + (SUBMISSIONS / assignment.name / f"{mistake}.py").read_text())
    return engine.grade(path, assignment, isolate=False, seed=seed)


def outcome(result, task: str, category: str):
    return next(o for o in result.outcomes if o.task == task and o.category == category)


def lines(result, task: str, *categories: str) -> list[str]:
    return [ln for o in result.outcomes if o.task == task and (not categories or o.category in categories)
            for ln in o.lines]


def others_untouched(result, task: str) -> None:
    assert all(o.passed for o in result.outcomes if o.task != task), \
        [(o.task, o.category, o.lines[:1]) for o in result.outcomes if o.task != task and not o.passed]


# ------------------------------------------------------------------------------------------------
# hw1 messages


def test_an_exception_on_an_edge_case_names_the_case(tmp_path):
    result = graded(tmp_path, HW1, "msg_linear_no_bias_none")
    others_untouched(result, "Linear")
    edge = lines(result, "Linear", "edge")
    visible = [ln for ln in edge if "[visible with bias=None]" in ln]
    assert visible and "raised TypeError" in visible[0] and "NoneType" in visible[0]
    assert "likely mistake: bias can be None" in visible[0]
    hidden = [ln for ln in edge if "[hidden case 'with bias=None']" in ln]
    assert hidden and hidden[0].startswith("Linear.forward [hidden case 'with bias=None']: TypeError")
    assert outcome(result, "Linear", "forward").passed  # the mistake costs only the bias=None cases


def test_a_per_example_weight_gradient_gets_the_sum_hint_at_every_batch_size(tmp_path):
    result = graded(tmp_path, HW1, "msg_linear_weight_grad_per_example")
    others_untouched(result, "Linear")
    weight_lines = [ln for ln in lines(result, "Linear", "backward", "edge") if "gradient for `weight`" in ln]
    assert any("[visible batch size 1]" in ln for ln in weight_lines), weight_lines
    assert weight_lines and all("sum over the batch" in ln for ln in weight_lines), weight_lines
    assert not any("reshape or transpose" in ln for ln in lines(result, "Linear"))


def test_a_weight_used_as_x_at_w_gets_the_layout_hint(tmp_path):
    result = graded(tmp_path, HW1, "msg_linear_x_at_w")
    others_untouched(result, "Linear")
    forward = lines(result, "Linear", "forward")
    assert forward and all("F.linear's layout (out, in)" in ln for ln in forward), forward
    square = [ln for ln in lines(result, "Linear", "edge") if "[visible square weight" in ln]
    assert square and "layout (out, in)" in square[0]  # no exception there: the values are wrong


def test_a_loss_returned_per_example_says_take_the_mean(tmp_path):
    result = graded(tmp_path, HW1, "msg_squared_error_per_example")
    others_untouched(result, "SquaredError")
    forward = lines(result, "SquaredError", "forward")
    assert forward and all("expected ()" in ln and "take the mean over the batch" in ln for ln in forward), forward


def test_the_same_mistake_gets_the_same_hint_on_every_shape(tmp_path):
    result = graded(tmp_path, HW1, "msg_squared_error_half_sum_over_batch")
    others_untouched(result, "SquaredError")
    failing = [ln for ln in lines(result, "SquaredError", "forward", "backward", "edge")
               if "SquaredError." in ln and not ln.startswith(TIP) and " raised " not in ln]  # 0-dim: shape[0]
    hints = {ln.split("likely mistake: ", 1)[-1] if "likely mistake" in ln else "" for ln in failing}
    assert len(hints) == 1 and "over all M = N·D elements" in hints.pop(), failing


def test_relu_accepts_any_value_in_0_1_at_the_kink(tmp_path):
    result = graded(tmp_path, HW1, "msg_relu_half_at_kink")
    assert result.score == pytest.approx(HW1.total_points)


def test_relu_outside_0_1_at_the_kink_is_explained(tmp_path):
    result = graded(tmp_path, HW1, "msg_relu_two_at_kink")
    others_untouched(result, "ReLU")
    assert outcome(result, "ReLU", "backward").passed  # the main cases avoid the kink
    edge = lines(result, "ReLU", "edge")
    assert edge and "c · grad_output with c in [0, 1]" in edge[0], edge


def test_backward_gets_autograds_own_ctx_and_no_grader_name(tmp_path):
    result = graded(tmp_path, HW1, "msg_square_ctx_typo")
    others_untouched(result, "Square")
    backward = lines(result, "Square", "backward")
    assert "'SquareBackward' object has no attribute 'saved_tensor'" in backward[0]
    assert not re.search(r"Stub|probe|runner|TorchFunctionMode|Recorder", "\n".join(lines(result, "Square")))


def test_needs_input_grad_extras_are_a_tip_but_a_gradient_for_a_none_bias_is_an_error(tmp_path):
    result = graded(tmp_path, HW1, "msg_linear_no_bias_none")  # also returns every gradient, always
    assert any(ln.startswith(TIP) and "needs_input_grad[0] is False" in ln for ln in lines(result, "Linear"))
    case = next(c for c in hw1.make_cases(HW1, 1, False)["Linear"] if c["label"] == "visible with bias=None")
    d = {"n_grads": 3, "grads": [None, None, torch.zeros(3)], "grad_types": ["None", "None", "Tensor"]}
    problem = hw1._grad_problem("Linear", case, d, 2, d["grads"][2], None, None)
    assert problem and not problem.startswith(TIP) and "which is None" in problem


# ------------------------------------------------------------------------------------------------
# Hidden cases never show an exception's message


def test_hidden_case_exceptions_show_only_the_type_and_the_case(tmp_path):
    result = graded(tmp_path, HW1, "msg_hidden_inputs_in_exception")
    everything = [ln for o in result.outcomes for ln in o.lines]
    hidden = [ln for ln in everything if "hidden" in ln]
    assert hidden and not any("SECRET" in ln for ln in hidden), hidden
    sigmoid = [ln for ln in lines(result, "Sigmoid") if "hidden case" in ln]
    assert any(re.search(r"\[hidden case '[^']+'\]: ValueError", ln) for ln in sigmoid), sigmoid
    square = [ln for ln in lines(result, "Square") if "hidden case" in ln]
    assert square and all("Leak12345" not in ln and "an exception" in ln for ln in square), square
    visible = [ln for ln in lines(result, "Sigmoid") if "[visible" in ln]
    assert any("SECRET-VALUES" in ln for ln in visible)  # visible inputs are the student's to see


def test_hidden_case_exceptions_in_hw2_show_only_the_type(tmp_path):
    result = graded(tmp_path, HW2, "msg_count_raises_with_inputs")
    count = lines(result, "count_parameters")
    hidden = [ln for ln in count if "hidden" in ln]
    assert hidden and all("SECRET" not in ln and ln.endswith("ValueError") for ln in hidden), hidden
    assert any("SECRET-SIZES" in ln for ln in count if "[visible" in ln)


def test_hidden_case_feedback_never_echoes_text_the_submission_returned(tmp_path):
    result = graded(tmp_path, HW2, "msg_collapse_returns_text")
    collapse = lines(result, "collapse_linear")
    hidden = [ln for ln in collapse if "[hidden" in ln]
    assert hidden and not any("SECRET" in ln for ln in hidden), hidden
    assert any("SECRET-W" in ln for ln in collapse if "[visible" in ln)  # visible: the student's own data


# ------------------------------------------------------------------------------------------------
# Returned values are checked for their exact type before anything is called on them


SUBCLASS_SOURCE = '''
import torch
from torch.autograd import Function

CALLED = []


class Sneaky(torch.Tensor):
    def detach(self, *args, **kwargs):
        CALLED.append("detach")
        return super().detach(*args, **kwargs)

    def clone(self, *args, **kwargs):
        CALLED.append("clone")
        return super().clone(*args, **kwargs)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).as_subclass(Sneaky)
'''


def test_a_tensor_subclass_from_backward_is_an_error_and_its_methods_never_run():
    module = types.ModuleType("functions")
    exec(compile(SUBCLASS_SOURCE, "functions.py", "exec"), module.__dict__)  # the probe only, no gate
    case = next(c for c in hw1.make_cases(HW1, 1, True)["Square"] if c["kind"] == "main")
    result = probe_hw1.run_case(module, case, "functions.py")
    assert module.CALLED == [], "the probe called a method of the submission's tensor subclass"
    assert result["direct"]["grad_types"] == ["subclass:Sneaky"]
    problems = hw1.check_backward("Square", case, result)
    assert problems and "a tensor subclass (Sneaky) — return a plain torch.Tensor" in problems[0]


def test_a_tensor_subclass_from_forward_is_an_error_and_its_methods_never_run():
    source = SUBCLASS_SOURCE.replace("return x * x", "return (x * x).as_subclass(Sneaky)").replace(
        "return (2 * x * grad_output).as_subclass(Sneaky)", "return 2 * x * grad_output")
    module = types.ModuleType("functions")
    exec(compile(source, "functions.py", "exec"), module.__dict__)
    case = next(c for c in hw1.make_cases(HW1, 1, True)["Square"] if c["kind"] == "main")
    result = probe_hw1.run_case(module, case, "functions.py")
    assert module.CALLED == []
    assert hw1.check_forward("Square", case, result) == [
        f"Square.forward [{case['label']}]: returned a tensor subclass (Sneaky) — return a plain torch.Tensor"]


def test_hw2_reads_a_tensor_subclass_as_text_without_calling_it():
    calls = []

    class Sneaky(torch.Tensor):
        def detach(self, *args, **kwargs):
            calls.append("detach")
            return super().detach(*args, **kwargs)

    value = torch.ones(3).as_subclass(Sneaky)
    assert probe_hw2.plain([value, {"w": value}]) == ["<tensor subclass Sneaky>", {"w": "<tensor subclass Sneaky>"}]
    assert calls == []


# ------------------------------------------------------------------------------------------------
# hw2


def test_collapse_linear_in_place_keeps_its_main_credit_and_costs_the_contract(tmp_path):
    result = graded(tmp_path, HW2, "msg_collapse_in_place")
    others_untouched(result, "collapse_linear")
    assert outcome(result, "collapse_linear", "main").passed
    assert outcome(result, "collapse_linear", "edge").passed
    contract = outcome(result, "collapse_linear", "compliance")
    assert contract.fraction == 0 and "modified its input `biases`" in contract.lines[0]
    assert not any("could not read" in ln for ln in lines(result, "collapse_linear"))


def test_a_perceptron_that_never_updates_b_loses_main_credit(tmp_path):
    result = graded(tmp_path, HW2, "msg_perceptron_no_bias")
    others_untouched(result, "perceptron_train")
    main = outcome(result, "perceptron_train", "main")
    assert main.fraction < 1
    assert any("needs the bias" in ln and "b is never updated" in ln for ln in main.lines), main.lines


@pytest.mark.parametrize("mistake", ["msg_mlp_torch_relu", "msg_mlp_nn_linear"])
def test_an_mlp_that_ignores_the_given_functions_loses_main_credit(tmp_path, mistake):
    result = graded(tmp_path, HW2, mistake)
    others_untouched(result, "MLP")
    main = outcome(result, "MLP", "main")
    assert main.fraction == 0
    assert "building the MLP from the given Functions is what this task grades" in main.lines[0]
    assert outcome(result, "MLP", "compliance").fraction == 0


def test_hw2_results_flagged_as_tampered_earn_nothing():
    cases = hw2.make_cases(HW2, 5, False)
    module = types.ModuleType("mlp")
    exec(compile(HW2_BASE.read_text(), "mlp.py", "exec"), module.__dict__)
    task = HW2.task("count_parameters")
    results = [probe_hw2.run_case(module, c, "mlp.py") for c in cases[task.name]]
    honest = hw2.score_task(HW2, task, cases[task.name], results, None)
    assert all(o.passed for o in honest)
    results[-1]["tampered"] = ["torch.autograd.grad"]
    outcomes = hw2.score_task(HW2, task, cases[task.name], results, None)
    assert [o.fraction for o in outcomes] == [0.0] * len(HW2.categories)
    assert "replaced code the grader" in outcomes[0].lines[0]
    assert "torch.autograd.grad" not in outcomes[0].lines[0]  # no grader-internal names


def test_hw2_copes_with_missing_and_malformed_results():
    cases = hw2.make_cases(HW2, 5, True)
    task = HW2.task("count_parameters")
    outcomes = hw2.score_task(HW2, task, cases[task.name], [{"error": "no result came back for this case"}, 7],
                              None)
    assert all(o.fraction == 0 for o in outcomes)
    assert any("no result came back" in ln for o in outcomes for ln in o.lines)
