"""course-nn compare: finds the first gradient that differs from torch's built-ins."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from course_nn import cli
from course_nn.paths import solutions_dir

SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"


@pytest.fixture
def solution_text() -> str:
    return (solutions_dir() / "hw1_autograd" / "functions.py").read_text()


def planted(tmp_path: Path, mistake: str) -> Path:
    """functions.py in ``tmp_path``: tests/submissions/hw1/correct_base.py, then ``<mistake>.py``
    (whose class replaces the base's)."""
    student = tmp_path / "functions.py"
    student.write_text("\n\n".join((SUBMISSIONS / f"{name}.py").read_text() for name in ("correct_base", mistake)))
    return student


def compare(capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["compare", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_solutions_match_torch(capsys):
    rc, out, _ = compare(capsys, "--impl", "solutions", "--hidden", "8,8")
    assert rc == 0
    assert "all forward values and gradients match" in out
    assert "DIFFERS" not in out


def test_finds_a_planted_bias_gradient_bug(tmp_path, capsys):
    student = planted(tmp_path, "linear_bias_mean_not_sum")
    rc, out, _ = compare(capsys, "--impl", str(student), "--hidden", "8,8")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("first gradient difference along backpropagation: layer3 bias gradient")
    assert "index (0,)" in last and "expected" in last and "actual" in last and "relative error" in last
    assert "Linear.backward (grad_bias)" in last
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert "DIFFERS" not in lines["layer3 weight gradient dJ/dW3"]
    assert "DIFFERS" in lines["layer1 bias gradient dJ/db1"]


def test_finds_a_sigmoid_backward_bug_on_regression(tmp_path, capsys):
    student = planted(tmp_path, "sigmoid_backward_drops_one_minus")
    rc, out, _ = compare(capsys, "--impl", str(student), "--task", "sine", "--activation", "sigmoid", "--hidden", "4,4")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert "layer2 dJ/dz2 through Sigmoid" in last and "Sigmoid.backward" in last


def test_unimplemented_student_file_is_one_line(tmp_path, capsys):
    student = tmp_path / "functions.py"
    student.write_text(
        "from torch.autograd import Function\n\n\n"
        "class Linear(Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, w, b=None):\n"
        "        raise NotImplementedError\n\n\n"
        "ReLU = Sigmoid = CrossEntropy = SquaredError = Linear\n"
    )
    rc, _, err = compare(capsys, "--impl", str(student))
    assert rc == 1
    assert err.strip().endswith("implement it or use --impl solutions") and "Linear.forward" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_compare_on_cuda(capsys):
    rc, out, _ = compare(capsys, "--impl", "solutions", "--device", "cuda", "--hidden", "8,8")
    assert rc == 0 and "on cuda" in out


def test_transposed_weight_gradient_is_the_first_difference(tmp_path, capsys):
    student = planted(tmp_path, "linear_weight_grad_transposed")
    rc, out, err = compare(capsys, "--impl", str(student), "--hidden", "8,8")
    assert rc == 1 and "Traceback" not in out + err
    assert "DIFFERS" not in "".join(line for line in out.splitlines() if line.startswith("  loss"))
    assert "dJ/dz3 (gradient of the loss w.r.t. the network output)" in out  # compared before the error
    last = out.strip().splitlines()[-1]
    # backward is called directly (as the grader does): the gradient is compared as returned
    assert last.startswith("first gradient difference along backpropagation: layer3 weight gradient dJ/dW3")
    assert "shape (8, 2), expected (2, 8)" in last
    assert "grad_outputᵀ · x" in last and last.endswith("look at Linear.backward (grad_weight)")


def test_exception_in_student_forward_is_one_line(tmp_path, capsys):
    student = planted(tmp_path, "sigmoid_forward_raises")
    rc, out, err = compare(capsys, "--impl", str(student), "--hidden", "8,8", "--activation", "sigmoid")
    assert rc == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    line = next(n for n, text in enumerate(student.read_text().splitlines(), 1) if "raise ValueError('boom')" in text)
    assert "Sigmoid.forward raised ValueError: boom" in err
    assert f"{student}:{line}: raise ValueError('boom')" in err


@pytest.mark.parametrize("args", [["--hidden", "0"], ["--hidden", "8,,8"], ["--hidden", "x"], ["--batch-size", "0"]])
def test_bad_sizes_are_usage_errors(capsys, args):
    rc, out, err = compare(capsys, "--impl", "solutions", *args)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and args[0] in err


def test_help_explains_itself_with_examples(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["compare", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "examples:" in out and "course-nn compare --impl functions.py" in out
    assert "backward raises" in out


def test_an_unsummed_bias_gradient_is_found_as_the_grader_finds_it(tmp_path, capsys):
    # autograd would sum the (N, out) gradient down to (out,) and report "all match"
    student = planted(tmp_path, "linear_bias_not_summed")
    rc, out, _ = compare(capsys, "--impl", str(student), "--hidden", "8,8", "--batch-size", "16")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert "layer3 bias gradient" in last and "shape (16, 2), expected (2,)" in last
    assert "sum the bias gradient over the batch" in last
    assert "all forward values and gradients match" not in out


def test_a_sigmoid_backward_that_uses_its_input_gets_the_hint(tmp_path, capsys):
    student = planted(tmp_path, "sigmoid_backward_uses_input")
    rc, out, _ = compare(capsys, "--impl", str(student), "--task", "sine", "--activation", "sigmoid", "--hidden", "4,4")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert "through Sigmoid" in last and "input z where the derivative needs the output" in last and "σ(z)(1 − σ(z))" in last


def test_compare_defaults_to_the_functions_py_of_a_student_bundle(tmp_path, monkeypatch, capsys, solution_text):
    (tmp_path / "functions.py").write_text(solution_text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_NN_ROOT", str(tmp_path))  # installed from the course's link: no solutions/
    rc, out, _ = compare(capsys, "--hidden", "4")
    assert rc == 0, out
    assert out.startswith(f"comparing {tmp_path / 'functions.py'}")


@pytest.mark.parametrize("mistake", ["relu_grad_output_in_place", "relu_saved_input_in_place"])
def test_a_backward_writing_in_place_is_named_with_checks_hint(tmp_path, capsys, mistake):
    from course_nn import registry
    from course_nn.grading import engine

    student = planted(tmp_path, mistake)
    rc, out, _ = compare(capsys, "--impl", str(student), "--hidden", "8,8")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("first gradient difference along backpropagation: layer2 ReLU.backward")
    assert last.endswith("look at ReLU.backward")
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")}
    # the copy it was handed is what changed: every gradient, Linear's included, is still right
    assert not [where for where, line in lines.items() if "DIFFERS" in line and "ReLU.backward" not in where]
    result = engine.grade(student, registry.get("hw1"), visible_only=True, isolate=False)
    said = {ln.split("]: ", 1)[1] for o in result.outcomes if o.task == "ReLU" for ln in o.lines if "]: " in ln}
    assert any(f"ReLU.backward: {hint}" in last for hint in said)  # the words `course-nn check` uses
