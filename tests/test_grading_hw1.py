"""The hw1 autograder: full marks for correct work, lost credit exactly where a mistake is,
and no way for a submission to fool it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, report

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"
HW1 = registry.get("hw1")
TASKS = [t.name for t in HW1.tasks]


def write(tmp_path: Path, source: str, name: str = "functions.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"
BASE = SUBMISSIONS / "correct_base.py"


def planted(tmp_path: Path, *mistakes: str, extra: str = "") -> Path:
    """A submission: the correct base, then each tests/submissions/hw1/<mistake>.py (whose classes replace
    the base's), then ``extra`` code; written as functions.py in ``tmp_path``."""
    parts = [BASE.read_text(), *((SUBMISSIONS / f"{m}.py").read_text() for m in mistakes), extra]
    return write(tmp_path, "\n\n".join(parts))


def grade_in_process(path: Path, **kw):
    """Grading without the sandbox, for tests about scoring and feedback rather than isolation."""
    return grade(path, isolate=False, **kw)


def by_task(result) -> dict[str, float]:
    """Points earned per task."""
    return {task: earned for task, (earned, _possible) in result.points_by_task().items()}


def outcome(result, task: str, category: str):
    return next(o for o in result.outcomes if o.task == task and o.category == category)


def full(task: str) -> float:
    return HW1.task(task).points


def assert_only_task_loses(result, task: str) -> None:
    scores = by_task(result)
    assert scores[task] < full(task) - 1e-6, f"{task} should lose credit, got {scores[task]}"
    for other in TASKS:
        if other != task:
            assert scores[other] == pytest.approx(full(other)), f"{other} lost credit: {result.outcomes}"


def grade(path: Path, **kw):
    kw.setdefault("seed", 12345)
    return engine.grade(path, HW1, **kw)


# ------------------------------------------------------------------------------------------------
# Correct work


@pytest.fixture(scope="module")
def reference_result():
    return grade(SOLUTION)


@pytest.mark.sandbox
def test_reference_earns_full_marks_in_the_sandbox(reference_result):
    assert reference_result.score == pytest.approx(HW1.total_points)
    assert all(o.passed for o in reference_result.outcomes)


@pytest.mark.sandbox
def test_results_json_follows_gradescope_and_names_begin_with_the_class(reference_result, tmp_path):
    out = tmp_path / "results.json"
    report.write_results(reference_result, out)
    data = json.loads(out.read_text())
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["score"] == pytest.approx(100)
    assert len(data["tests"]) == len(TASKS) * len(HW1.categories)
    for t in data["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert t["name"].split(":")[0] in TASKS
        assert t["status"] == "passed"
    linear = [t for t in data["tests"] if t["name"].startswith("Linear:")]
    assert sum(t["max_score"] for t in linear) == pytest.approx(HW1.task("Linear").points)
    assert any(t["name"] == "Linear: backward matches the reference (hidden cases)" for t in linear)


SETUP_CONTEXT_STYLE = '''
import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class QuadraticForm(Function):
    @staticmethod
    def forward(v, A):
        return v @ A @ v

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        v, A = ctx.saved_tensors
        gv = g * (A + A.t()) @ v if ctx.needs_input_grad[0] else None
        gA = g * torch.outer(v, v) if ctx.needs_input_grad[1] else None
        return gv, gA


class Sigmoid(Function):
    @staticmethod
    def forward(z):
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class ReLU(Function):
    @staticmethod
    def forward(z):
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return torch.where(y > 0, g, torch.zeros_like(g))


class Linear(Function):
    @staticmethod
    def forward(x, w, b=None):
        y = x @ w.t()
        return y if b is None else y + b

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, w, b = (list(inputs) + [None])[:3]
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g @ w if ctx.needs_input_grad[0] else None
        gw = g.t() @ x if ctx.needs_input_grad[1] else None
        gb = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb


class SquaredError(Function):
    @staticmethod
    def forward(p, t):
        return ((p - t) ** 2).mean()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        p, t = ctx.saved_tensors
        d = 2 * (p - t) / p.numel() * g
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(z, y):
        logp = z - torch.logsumexp(z, dim=1, keepdim=True)
        if y.dtype == torch.int64:
            y = torch.zeros_like(z).scatter(1, y[:, None], 1.0)
        return -(y * logp).sum() / z.shape[0]

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        z, y = ctx.saved_tensors
        if y.dtype == torch.int64:
            y = torch.zeros_like(z).scatter(1, y[:, None], 1.0)
        p = torch.exp(z - torch.logsumexp(z, dim=1, keepdim=True))
        return g * (p - y) / z.shape[0], None
'''


def test_planted_mistakes_start_from_a_base_that_earns_full_marks(tmp_path):
    result = grade_in_process(planted(tmp_path))
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


@pytest.mark.sandbox
def test_setup_context_style_earns_full_marks(tmp_path):
    result = grade(write(tmp_path, SETUP_CONTEXT_STYLE))
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# ------------------------------------------------------------------------------------------------
# Each mistake loses credit on its own Function only


def test_unsummed_bias_gradient_is_caught_with_a_hint(tmp_path):
    result = grade_in_process(planted(tmp_path, "linear_bias_not_summed"))
    assert_only_task_loses(result, "Linear")
    lines = "\n".join(outcome(result, "Linear", "backward").lines)
    assert "sum the bias gradient over the batch" in lines


def test_wrong_forward_with_matching_backward_earns_no_gradcheck_credit_alone(tmp_path):
    """Gradcheck alone is fooled by a consistent mistake (sum for mean); a Function with no main case right
    earns no gradcheck credit (else x·1e-30 forward with g·1e-30 back would earn it on the stub)."""
    result = grade_in_process(planted(tmp_path, "squared_error_sum_not_mean"))
    assert_only_task_loses(result, "SquaredError")
    gradcheck = outcome(result, "SquaredError", "gradcheck")
    assert gradcheck.fraction == 0 and "no hand-written work to credit" in " ".join(gradcheck.lines)
    forward = outcome(result, "SquaredError", "forward")
    assert forward.fraction == 0
    assert "number of elements" in " ".join(forward.lines)


def test_autograd_inside_backward_fails_compliance(tmp_path):
    result = grade_in_process(planted(tmp_path, "sigmoid_autograd_in_backward"))
    assert_only_task_loses(result, "Sigmoid")
    comp = outcome(result, "Sigmoid", "compliance")
    assert comp.fraction == 0
    assert "autograd" in " ".join(comp.lines)
    assert any("torch.autograd.grad" in r for r in comp.review)


def test_builtin_sigmoid_in_forward_earns_nothing_for_sigmoid(tmp_path):
    result = grade_in_process(planted(tmp_path, "sigmoid_builtin_forward"))
    assert_only_task_loses(result, "Sigmoid")
    assert by_task(result)["Sigmoid"] == 0  # forward broke the rules: no category is earned
    assert "`sigmoid`" in outcome(result, "Sigmoid", "compliance").lines[0]
    assert outcome(result, "Sigmoid", "backward").lines[0].startswith("no credit:")


AUTOGRAD_EVERYWHERE = textwrap.dedent("""
    import sys, torch
    import torch.nn.functional as F
    from torch.autograd import Function
    PATCH_RECORDERS

    _ag = getattr(torch, "auto" + "grad")

    def _vjp(fn, inputs, g):
        with torch.inference_mode(False), getattr(torch, "enable" + "_grad")():
            leaves = [x.detach().clone().requires_grad_(True) if isinstance(x, torch.Tensor) and x.is_floating_point()
                      else x for x in inputs]
            out = fn(*leaves)
            diff = [t for t in leaves if isinstance(t, torch.Tensor) and t.requires_grad]
            gs = iter(getattr(_ag, "gr" + "ad")(out, diff, g.detach().clone(), allow_unused=True))
        return tuple(next(gs) if isinstance(t, torch.Tensor) and t.requires_grad else None for t in leaves)

    def make(fn):
        class C(Function):
            @staticmethod
            def forward(ctx, *inputs):
                ctx.save_for_backward(*[x if isinstance(x, torch.Tensor) else None for x in inputs])
                return fn(*inputs)

            @staticmethod
            def backward(ctx, g):
                gs = _vjp(fn, list(ctx.saved_tensors), g)
                return tuple(gs[i] if ctx.needs_input_grad[i] else None for i in range(len(gs)))
        return C

    Square = make(lambda x: x * x)
    QuadraticForm = make(lambda v, A: v @ A @ v)
    Sigmoid = make(torch.sigmoid)
    ReLU = make(torch.relu)
    Linear = make(lambda x, w, b=None: F.linear(x, w, b))
    SquaredError = make(F.mse_loss)
    CrossEntropy = make(F.cross_entropy)
""")


@pytest.mark.parametrize("patch", ["", "for name, mod in list(sys.modules.items()):\n"
                                       "    if name.startswith('probe_hw'):\n"
                                       "        mod._recorded = lambda seen, record, call: call()"])
@pytest.mark.sandbox
def test_autograd_and_builtins_everywhere_earn_at_most_honest_forwards(tmp_path, patch):
    source = AUTOGRAD_EVERYWHERE.replace("PATCH_RECORDERS", patch)
    result = grade(write(tmp_path, source))
    scores = by_task(result)
    forward_share = next(c.weight for c in HW1.categories if c.key == "forward")
    # Square and QuadraticForm compute their forward from primitives: that (and only that) may count.
    for name in ("Square", "QuadraticForm"):
        assert scores[name] <= HW1.task(name).points * forward_share + 1e-6
    for name in ("Sigmoid", "ReLU", "Linear", "SquaredError", "CrossEntropy"):
        assert scores[name] == 0, (name, [o.lines[:1] for o in result.outcomes if o.task == name])
    if patch:
        assert scores["Square"] == 0  # replacing the grader's recorder (or importing sys to do it) costs everything
        assert outcome(result, "Square", "compliance").lines  # with a reason


@pytest.mark.parametrize("isolate", [pytest.param(True, marks=pytest.mark.sandbox), False])  # in-process too: the probe hands backward a copy
def test_in_place_grad_output_is_caught(tmp_path, isolate):
    result = grade(planted(tmp_path, "relu_grad_output_in_place"), isolate=isolate)
    assert_only_task_loses(result, "ReLU")
    assert "grad_output in place" in " ".join(outcome(result, "ReLU", "backward").lines)


RELU_FORWARD_CLAMPS_INPUT = """
class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        z.clamp_(min=0.0)  # mistake: changes the caller's z
        ctx.save_for_backward(z)
        return z.clone()

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * (z > 0).to(grad_output.dtype)
"""


@pytest.mark.parametrize("isolate", [pytest.param(True, marks=pytest.mark.sandbox), False])
def test_inputs_changed_in_place_by_forward_or_backward_are_caught(tmp_path, isolate):
    """The child says which inputs a call changed (probe_hw1._changed); the values are right in both files,
    so only the in-place change costs: forward's in forward, backward's on the saved input in backward."""
    saved = grade(planted(tmp_path, "relu_saved_input_in_place"), isolate=isolate)
    assert_only_task_loses(saved, "ReLU")
    assert "modified the saved input `z` in place" in " ".join(outcome(saved, "ReLU", "backward").lines)
    assert outcome(saved, "ReLU", "forward").fraction == 1
    forward = grade(planted(tmp_path, extra=RELU_FORWARD_CLAMPS_INPUT), isolate=isolate)
    assert_only_task_loses(forward, "ReLU")
    assert "modified its input `z` in place" in " ".join(outcome(forward, "ReLU", "forward").lines)
    assert not any("saved input" in line for line in outcome(forward, "ReLU", "backward").lines)


def test_tensor_stored_on_ctx_is_caught(tmp_path):
    result = grade_in_process(planted(tmp_path, "square_tensor_on_ctx"))
    assert_only_task_loses(result, "Square")
    assert "save_for_backward" in " ".join(outcome(result, "Square", "backward").lines)


def test_missing_batch_mean_in_cross_entropy_gradient_gets_a_hint(tmp_path):
    result = grade_in_process(planted(tmp_path, "cross_entropy_no_batch_mean"))
    assert_only_task_loses(result, "CrossEntropy")
    assert "batch size N" in " ".join(outcome(result, "CrossEntropy", "backward").lines)


def test_relu_gradient_one_at_zero_is_accepted(tmp_path):
    # Policy (issue 12): the lecture's 1 at z = 0 is a subgradient like torch's 0; both earn full credit.
    result = grade_in_process(planted(tmp_path, "relu_input_mask_ge_zero"))
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# ------------------------------------------------------------------------------------------------
# Submissions that attack the grader


@pytest.mark.sandbox
def test_monkeypatching_fake_results_and_os_exit_earn_nothing(tmp_path):
    out = tmp_path / "results.json"
    evil = textwrap.dedent(f"""
        import atexit, json, os, torch
        torch.autograd.gradcheck = lambda *a, **k: True
        torch.allclose = lambda *a, **k: True
        fake = {{"score": 100, "tests": []}}
        for target in [{str(out)!r}, "/autograder/results/results.json"]:
            try:
                open(target, "w").write(json.dumps(fake))
            except OSError:
                pass
        atexit.register(lambda: open({str(out)!r}, "w").write(json.dumps(fake)))
        os._exit(0)
    """)
    (tmp_path / "sub").mkdir()
    result = grade(write(tmp_path / "sub", evil))
    report.write_results(result, out)
    data = json.loads(out.read_text())
    assert data["score"] == 0
    scored = [t for t in data["tests"] if t["max_score"] > 0]
    assert sum(t["max_score"] for t in scored) == pytest.approx(HW1.total_points)  # every point was at stake
    assert all(t["score"] == 0 for t in data["tests"])
    assert "import" in data["tests"][0]["output"]
    review = [t for t in data["tests"] if t["visibility"] == "hidden"]
    assert review and "os._exit" in review[0]["output"]  # flagged for the instructor


@pytest.mark.sandbox
def test_sys_exit_at_import_scores_zero_with_reason(tmp_path):
    result = grade(write(tmp_path, "raise SystemExit(0)\n"))  # what sys.exit does, without an import
    assert result.score == 0
    assert all("sys.exit" in o.lines[0] for o in result.outcomes)


@pytest.mark.sandbox
def test_syntax_error_scores_zero_with_the_line(tmp_path):
    result = grade(planted(tmp_path, extra="def broken(:\n"))
    assert result.score == 0
    assert "SyntaxError" in result.outcomes[0].lines[0]


@pytest.mark.slow  # waits out a 3 s timeout
@pytest.mark.sandbox
def test_hang_in_one_backward_costs_that_function_only(tmp_path):
    result = grade(planted(tmp_path, "linear_backward_hangs"), timeout=3)
    assert by_task(result)["Linear"] == 0
    assert "longer than 3 s" in outcome(result, "Linear", "forward").lines[0]
    for other in TASKS:
        if other != "Linear":
            assert by_task(result)[other] == pytest.approx(full(other))
    assert result.seconds < 60


@pytest.mark.slow  # allocates up to the memory cap
@pytest.mark.sandbox
def test_memory_past_the_cap_fails_that_function_with_a_message(tmp_path):
    result = grade(planted(tmp_path, "square_forward_hogs_memory"), memory_bytes=512 << 20)
    assert by_task(result)["Square"] == 0
    text = " ".join(outcome(result, "Square", "forward").lines)
    assert "memory" in text
    assert by_task(result)["Linear"] == pytest.approx(full("Linear"))


@pytest.mark.sandbox
def test_importing_solutions_earns_nothing(tmp_path):
    result = grade(write(tmp_path, "from solutions.hw1_autograd.functions import *\n"))
    assert result.score == 0
    assert "solutions" in result.outcomes[0].lines[0]  # the refused import is named


@pytest.mark.sandbox
def test_stubs_score_zero_with_not_implemented_everywhere():
    result = grade(STUB)
    assert result.score == 0
    for o in result.outcomes:
        assert o.lines and o.lines[0].startswith("not implemented"), (o.task, o.category, o.lines)


@pytest.mark.sandbox
def test_visible_only_check_matches_in_process_selftest():
    sandboxed = engine.grade(SOLUTION, HW1, visible_only=True)
    in_process = engine.grade(SOLUTION, HW1, visible_only=True, isolate=False)
    assert [(o.task, o.category, o.fraction) for o in sandboxed.outcomes] == \
        [(o.task, o.category, o.fraction) for o in in_process.outcomes]


@pytest.mark.slow  # a pytest subprocess
def test_public_tests_catch_a_planted_mistake_and_hide_torch_internals(tmp_path):
    # The handout's test_functions.py as a student runs it: the failing test is the one for the broken
    # Function, and the report shows the test's line and the error, not torch's autograd internals.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(ROOT / "assignments" / HW1.folder)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "COURSE_NN_SUBMISSION": str(planted(tmp_path, "linear_weight_grad_transposed"))})
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "test_linear" in result.stdout and "1 failed" in result.stdout
    assert "invalid gradient at index 1" in result.stdout  # autograd's own shape check on the weight gradient
    assert "site-packages" not in result.stdout


@pytest.mark.parametrize(("task", "mistake", "hint"), [
    ("ReLU", "relu_output_mask_ge_zero", "not [g ≥ 0]"),
    ("SquaredError", "squared_error_divides_by_batch", "instead of the number of elements M"),
    ("CrossEntropy", "cross_entropy_indices_only", "only integer class indices are handled"),
    ("Linear", "linear_weight_grad_transposed", "transpose"),
    ("Sigmoid", "sigmoid_ignores_grad_output", "local derivative"),
])
def test_typical_mistakes_get_a_likely_mistake_hint(tmp_path, task, mistake, hint):
    result = engine.grade(planted(tmp_path, mistake), HW1, visible_only=True, isolate=False)
    lines = " ".join(line for o in result.outcomes if o.task == task for line in o.lines)
    assert hint in lines, lines[:2000]
    assert all(o.passed for o in result.outcomes if o.task != task)


# ------------------------------------------------------------------------------------------------
# The whole contract is drawn (issue 22): every needs_input_grad combination, every promised shape


def test_every_needs_input_grad_combination_and_promised_shape_is_drawn():
    from itertools import combinations

    from course_nn.grading import hw1

    for visible_only in (True, False):
        cases = hw1.make_cases(HW1, 17, visible_only)
        for task, spec in hw1.SPECS.items():
            drawn = {(c["inputs"][2] is None if task == "Linear" else False, tuple(c["needs"]))
                     for c in cases[task] if c["kind"] != "gradcheck"}
            for variant, _prefix, indices in spec.grad_inputs or (("", "", (0,)),):
                for k in range(1, len(indices) + 1):
                    for chosen in combinations(indices, k):
                        needs = tuple(i in chosen for i in range(len(spec.input_names)))
                        assert (variant == "nobias", needs) in drawn, (task, variant, needs)
            ndims = {c["inputs"][0].dim() for c in cases[task]}
            if spec.any_shape:
                assert {0, 1, 2, 3} <= ndims, (task, ndims)
        linear = cases["Linear"]
        assert any(c["inputs"][1].shape[1] == 1 for c in linear)  # in_features = 1
        assert any(c["inputs"][1].shape[0] == 1 for c in linear)  # out_features = 1
        assert any(c["inputs"][0].shape[0] == 1 for c in linear)  # batch 1
        labels = [c["label"] for c in linear]
        assert any(label.endswith("only bias needs a gradient") for label in labels)
        assert any(label.endswith("with bias=None, only x needs a gradient") for label in labels)
        assert any(re.search(r"a 3-D input \(\d, \d, \d\)$", c["label"]) for c in cases["SquaredError"])


@pytest.mark.parametrize(("mistake", "task", "case", "hint"), [
    ("linear_backward_only_bias_unbound", "Linear", "[visible only bias needs a gradient] raised UnboundLocalError",
     "assigned only inside an `if`"),
    ("squared_error_two_dim_only", "SquaredError", "[visible a 3-D input (", "takes any shape"),
    ("linear_bias_grad_squeezed", "Linear", "[visible out_features = 1]: gradient for `bias` has shape (), expected (1,)",
     "a dimension of size 1 was dropped"),
])
def test_a_bug_only_a_contract_corner_shows_loses_points_with_the_case_named(tmp_path, mistake, task, case, hint):
    result = grade_in_process(planted(tmp_path, mistake))
    assert_only_task_loses(result, task)
    edge = outcome(result, task, "edge")
    assert edge.fraction < 1
    line = next((ln for ln in edge.lines if case in ln), None)
    assert line is not None and hint in line, edge.lines


def test_visible_cases_are_drawn_once_per_process_and_handed_out_as_copies():
    """The visible cases (public seed) are the same for every submission, so the grader keeps them with
    their references; each grading gets its own copies: a change to one grading's tensors reaches no other."""
    import torch

    from course_nn.grading import hw1

    first = [c for c in hw1.make_cases(HW1, 1, True)["Linear"]]
    second = [c for c in hw1.make_cases(HW1, 2, False)["Linear"] if c["visible"]]
    assert [c["label"] for c in first] == [c["label"] for c in second] and len(first) > 10
    assert all(torch.equal(a["grad_output"], b["grad_output"]) for a, b in zip(first, second))
    assert all("_ref_grads" in b for b in second if b["kind"] != "gradcheck")
    first[0]["inputs"][0].add_(1000.0)
    first[0]["_ref_out"].zero_()
    third = hw1.make_cases(HW1, 3, True)["Linear"]
    assert torch.equal(third[0]["inputs"][0], second[0]["inputs"][0])
    assert torch.equal(third[0]["_ref_out"], second[0]["_ref_out"]) and third[0]["_ref_out"].abs().sum() > 0
