"""course-nn bench: JSON keys, saved-bytes counting, style adapters, and one-line errors. No speed assertions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from course_nn import cli
from course_nn.bench import measure, models
from course_nn.files import write_json
from course_nn.paths import solutions_dir

SOLUTION = (solutions_dir(required=False) or Path("/nonexistent")) / "hw1_autograd" / "functions.py"
needs_solution = pytest.mark.skipif(not SOLUTION.is_file(), reason="solutions/hw1_autograd/functions.py not in this clone")


@pytest.fixture
def bench_main(monkeypatch):
    """course_nn.cli.main with only the bench subcommand registered (other subcommands may still be in progress)."""
    monkeypatch.setattr(cli, "COMMANDS", {"bench": cli.COMMANDS["bench"]})
    return cli.main


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


# ------------------------------------------------------------------ saved-bytes counting


class _SaveTwoViews(torch.autograd.Function):
    """Saves x and a view of x: two saved tensors, one storage."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, x[1:])
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return 2 * g


def test_count_saved_bytes_counts_a_shared_storage_once():
    x = torch.randn(100, requires_grad=True)
    saved = measure.count_saved_bytes(lambda: _SaveTwoViews.apply(x))
    assert saved.tensors == 2
    assert saved.storages == 1
    assert saved.nbytes == 100 * 4


def test_count_saved_bytes_adds_distinct_storages():
    a = torch.randn(10, 20, requires_grad=True)
    b = torch.randn(20, 30, requires_grad=True)
    saved = measure.count_saved_bytes(lambda: (a @ b).sum())
    assert saved.storages == 2  # mm saves both operands, sum saves nothing
    assert saved.nbytes == (10 * 20 + 20 * 30) * 4


# ------------------------------------------------------------------ models and style adapters


@needs_solution
@pytest.mark.parametrize("style", ["classic", "setup_context"])
def test_style_adapters_keep_the_math(style):
    fns = models.load_functions(SOLUTION)
    start = models.init_params(torch.device("cpu"))
    x, target = models.make_batch(4, torch.device("cpu"))
    grads = {}
    for name, impl in (("plain", fns), ("adapted", models.adapted_functions(fns, style))):
        params = models.clone_params(start)
        models.reference_forward(impl)(params, x, target).backward()
        grads[name] = [p.grad for p in params]
    for g_plain, g_adapted in zip(grads["plain"], grads["adapted"]):
        assert torch.equal(g_plain, g_adapted)


@needs_solution
def test_reference_and_builtin_models_agree():
    fns = models.load_functions(SOLUTION)
    params = models.init_params(torch.device("cpu"))
    x, target = models.make_batch(8, torch.device("cpu"))
    ref = models.reference_forward(fns)(params, x, target)
    builtin = models.builtin_forward(params, x, target)
    assert torch.allclose(ref, builtin, atol=1e-5)


def test_tuned_variant_computes_what_the_builtin_model_computes():
    # step_time_ratio races the tuned variant: it must be the built-in model's math, or the race is meaningless.
    start = models.init_params(torch.device("cpu"))
    x, target = models.make_batch(16, torch.device("cpu"))
    grads = {}
    for name, forward in (("tuned", models.reference_forward(models.TUNED_FUNCTIONS)), ("builtin", models.builtin_forward)):
        params = models.clone_params(start)
        loss = forward(params, x, target)
        loss.backward()
        grads[name] = [loss.detach()] + [p.grad for p in params]
    for a, b in zip(grads["tuned"], grads["builtin"]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Linear", "ReLU", "CrossEntropy"])
def test_tuned_functions_pass_gradcheck_with_both_target_kinds(name):
    fn = getattr(models.TUNED_FUNCTIONS, name)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(3, 5, generator=gen, dtype=torch.float64).requires_grad_()
    if name == "Linear":
        w = torch.randn(4, 5, generator=gen, dtype=torch.float64).requires_grad_()
        b = torch.randn(4, generator=gen, dtype=torch.float64).requires_grad_()
        assert torch.autograd.gradcheck(fn.apply, (z, w, b))
        assert torch.autograd.gradcheck(fn.apply, (z, w, None))
    elif name == "ReLU":
        assert torch.autograd.gradcheck(fn.apply, (z,))
    else:
        probs = torch.softmax(torch.randn(3, 5, generator=gen, dtype=torch.float64), dim=1)
        assert torch.autograd.gradcheck(lambda logits: fn.apply(logits, torch.tensor([0, 4, 2])), (z,))
        assert torch.autograd.gradcheck(lambda logits: fn.apply(logits, probs), (z,))


IN_PLACE_OK = {"requires_grad_"}  # marks a tensor, changes no value


@needs_solution
def test_teaching_reference_does_no_in_place_op_the_handout_forbids():
    # The handout forbids in-place changes to inputs; the reference students read after the deadline
    # must not look like it breaks that rule, so it does no in-place op at all (the tuned variant may).
    import ast

    tree = ast.parse(SOLUTION.read_text())
    in_place = [
        f"line {node.lineno}: {ast.unparse(node)[:60]}" for node in ast.walk(tree)
        if isinstance(node, ast.AugAssign)
        or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr.endswith("_") and not node.func.attr.startswith("_")
            and node.func.attr not in IN_PLACE_OK)
    ]
    assert in_place == []
    tuned_source = Path(models.TUNED_FUNCTIONS.__file__).read_text()
    assert "mul_(" in tuned_source and "scatter_(" in tuned_source  # the tricks moved here, not away


def test_floor_model_computes_what_the_builtin_model_computes():
    # The floor must be the built-in model's math exactly (only the Function wrapping differs), or its ratio
    # would not measure the machinery alone: same loss and same gradient for every parameter.
    start = models.init_params(torch.device("cpu"))
    x, target = models.make_batch(16, torch.device("cpu"))
    grads = {}
    for name, forward in (("floor", models.reference_forward(models.KERNEL_FUNCTIONS)), ("builtin", models.builtin_forward)):
        params = models.clone_params(start)
        loss = forward(params, x, target)
        loss.backward()
        grads[name] = [loss.detach()] + [p.grad for p in params]
    assert grads["floor"][2] is not None  # layer 1's weight got a gradient
    for a, b in zip(grads["floor"], grads["builtin"]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ the command


@pytest.mark.slow  # times every comparison, briefly
@needs_solution
def test_quick_bench_writes_json_with_finite_ratios(bench_main, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = bench_main(["bench", "--quick", "--skip-grade", "--json", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "step_time_ratio" in table and "ddp spiral (2-64-64-2, global batch 16): 1 process" in table
    result = json.loads(out.read_text())
    ratio_keys = [
        "step_time_ratio", "saved_bytes_ratio", "teaching_step_time_ratio", "teaching_saved_bytes_ratio",
        "step_time_ratio_batch1", "saved_bytes_ratio_batch1",
        "step_time_ratio_batch1024", "saved_bytes_ratio_batch1024",
        "teaching_step_time_ratio_batch1", "teaching_saved_bytes_ratio_batch1024",
        "setup_context_over_classic", "function_floor_ratio", "function_floor_ratio_batch1",
    ]
    for key in ratio_keys:
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, key
    for key in ("grade_seconds", "grade_over_import_torch"):
        assert key in result and result[key] is None
    assert "skip" in result["grade_note"]
    entry = result["batches"]["128"]
    assert entry["tuned_ms_per_step"] > 0 and entry["teaching_ms_per_step"] > 0 and entry["builtin_ms_per_step"] > 0
    assert entry["initial_loss_abs_diff"] < 1e-4  # same weights and data on every side
    assert entry["tuned_over_floor"] == pytest.approx(entry["step_time_ratio"] / entry["function_floor_ratio"])
    assert entry["teaching_over_floor"] == pytest.approx(
        entry["teaching_step_time_ratio"] / entry["function_floor_ratio"])
    # the two sides are measured separately: the tuned variant saves only what backward uses, the teaching
    # reference also keeps the first layer's weight (784 x 256 floats) that no gradient needs
    assert entry["tuned_saved_bytes"] <= entry["builtin_saved_bytes"]
    assert entry["teaching_saved_bytes"] - entry["tuned_saved_bytes"] >= 784 * 256 * 4
    assert result["machine"]["torch_num_threads"] >= 1
    for batch in ("1", "128"):  # per-layer diagnosis at batch 1 and the headline batch
        layer = result["layers"][batch]["CrossEntropy"]
        assert layer["tuned_us"] > 0 and layer["teaching_us"] > 0 and layer["builtin_us"] > 0
    assert result["function_overhead"]["custom_function_us"] > 0
    # the trainer's step with 2 processes (torch.distributed) against 1, for the spiral MLP and a larger one
    for name, sizes in (("spiral", [2, 64, 64, 2]), ("mlp784", [784, 256, 256, 10])):
        ddp = result["ddp"][name]
        assert ddp["sizes"] == sizes and ddp["one_process_ms"] > 0 and ddp["two_processes_ms"] > 0
        assert ddp["ddp_step_time_ratio"] == pytest.approx(ddp["two_processes_ms"] / ddp["one_process_ms"], rel=1e-3)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file


@pytest.mark.slow  # times every comparison, briefly
def test_impl_flag_benchmarks_another_file(bench_main, tmp_path):
    impl = tmp_path / "functions.py"
    impl.write_text(
        "import torch\n"
        "import torch.nn.functional as F\n"
        "class Linear(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, w, b):\n"
        "        ctx.save_for_backward(x, w)\n"
        "        return x @ w.t() + b\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        x, w = ctx.saved_tensors\n"
        "        return g @ w, g.t() @ x, g.sum(0)\n"
        "class ReLU(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, z):\n"
        "        ctx.save_for_backward(z)\n"
        "        return z.clamp(min=0)\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (z,) = ctx.saved_tensors\n"
        "        return g * (z > 0)\n"
        "class CrossEntropy(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, z, t):\n"
        "        lp = z.log_softmax(1)\n"
        "        ctx.save_for_backward(lp, t)\n"
        "        return -lp.gather(1, t[:, None]).mean()\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        lp, t = ctx.saved_tensors\n"
        "        p = lp.exp()\n"
        "        p[torch.arange(len(t)), t] -= 1\n"
        "        return g * p / len(t), None\n"
    )
    out = tmp_path / "b.json"
    assert bench_main(["bench", "--impl", str(impl), "--quick", "--skip-grade", "--skip-ddp", "--batches", "2",
                       "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["impl"] == str(impl)
    assert result["headline_batch"] == 2 and result["step_time_ratio"] > 0
    # the --impl file is the teaching side: it saves z and (x, w) in every layer, more than the tuned variant
    entry = result["batches"]["2"]
    assert entry["teaching_saved_bytes"] > entry["tuned_saved_bytes"]
    assert result["teaching_saved_bytes_ratio"] == pytest.approx(
        entry["teaching_saved_bytes"] / entry["builtin_saved_bytes"])


def test_cuda_without_cuda_is_a_one_line_usage_error(bench_main, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert bench_main(["bench", "--device", "cuda", "--impl", __file__, "--skip-grade"]) == 2
    assert "cuda" in _error_line(capsys).lower()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--batches", "1,x"], "--batches"),
        (["--batches", "0"], "--batches"),
        (["--threads", "0"], "--threads"),
        (["--impl", "/no/such/functions.py"], "no such file"),
        (["--json", "/no/such/dir/out.json"], "does not exist"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(bench_main, capsys, argv, words):
    assert bench_main(["bench", "--skip-grade", *argv]) == 2
    assert words in _error_line(capsys)


def test_impl_without_the_needed_classes_is_a_usage_error(bench_main, tmp_path, capsys):
    impl = tmp_path / "functions.py"
    impl.write_text("class Linear:\n    pass\n")
    assert bench_main(["bench", "--impl", str(impl), "--skip-grade"]) == 2
    line = _error_line(capsys)
    assert "ReLU" in line and "CrossEntropy" in line


def test_impl_that_does_not_import_is_one_line(bench_main, tmp_path, capsys):
    impl = tmp_path / "functions.py"
    impl.write_text("def broken(:\n")
    assert bench_main(["bench", "--impl", str(impl), "--skip-grade"]) == 2  # like train: a usage error
    assert "SyntaxError" in _error_line(capsys)


def test_impl_that_fails_in_the_mlp_is_one_line(bench_main, tmp_path, capsys):
    impl = tmp_path / "functions.py"
    impl.write_text(
        "import torch\n"
        "class Linear(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, w, b):\n"
        "        raise NotImplementedError('Linear.forward: your code here')\n"
        "ReLU = CrossEntropy = Linear\n"
    )
    assert bench_main(["bench", "--impl", str(impl), "--quick", "--skip-grade"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err  # progress lines, then exactly one error line
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "NotImplementedError" in errors[0]


def test_missing_solutions_says_so_in_one_line(bench_main, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_NN_ROOT", str(tmp_path))  # a "clone" without solutions/
    assert bench_main(["bench", "--skip-grade"]) == 2
    assert "solutions" in _error_line(capsys)


def test_grade_timing_reports_a_failed_grader_as_null(tmp_path):
    from course_nn.bench.grade_time import measure_grade

    result = measure_grade(tmp_path / "missing_functions.py", repeats=1)
    assert result["grade_seconds"] is None and result["grade_over_import_torch"] is None
    assert "exit" in result["grade_note"]


def test_write_json_atomic_replaces_the_file(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    write_json(out, {"a": 1})
    assert json.loads(out.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@needs_solution
def test_quick_bench_on_cuda_reports_peak_memory(bench_main, tmp_path):
    out = tmp_path / "bench_cuda.json"
    assert bench_main(["bench", "--device", "cuda", "--quick", "--skip-grade", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["device"].startswith("cuda")
    for key in ("step_time_ratio", "saved_bytes_ratio", "peak_bytes_ratio", "peak_bytes_ratio_batch1024",
                "teaching_step_time_ratio", "teaching_peak_bytes_ratio"):
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, key
    assert result["batches"]["128"]["tuned_peak_bytes"] > 0
