"""course-nn compare: finds the first gradient that differs from torch's built-ins."""

from __future__ import annotations

import pytest
import torch

from course_nn import cli
from course_nn.paths import solutions_dir

CORRECT = "grad_b = grad_output.sum(dim=0)"


@pytest.fixture
def solution_text() -> str:
    text = (solutions_dir() / "hw1_autograd" / "functions.py").read_text()
    assert CORRECT in text  # the planted bug below edits this line
    return text


def compare(capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["compare", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_solutions_match_torch(capsys):
    rc, out, _ = compare(capsys, "--impl", "solutions", "--hidden", "8,8")
    assert rc == 0
    assert "all forward values and gradients match" in out
    assert "DIFFERS" not in out


def test_finds_a_planted_bias_gradient_bug(tmp_path, capsys, solution_text):
    student = tmp_path / "functions.py"
    student.write_text(solution_text.replace(CORRECT, "grad_b = grad_output.mean(dim=0)"))
    rc, out, _ = compare(capsys, "--impl", str(student), "--hidden", "8,8")
    assert rc == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("first gradient difference along backpropagation: layer3 bias gradient")
    assert "index (0,)" in last and "expected" in last and "actual" in last and "relative error" in last
    assert "Linear.backward (grad_bias)" in last
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert "DIFFERS" not in lines["layer3 weight gradient dJ/dW3"]
    assert "DIFFERS" in lines["layer1 bias gradient dJ/db1"]


def test_finds_a_sigmoid_backward_bug_on_regression(tmp_path, capsys, solution_text):
    student = tmp_path / "functions.py"
    student.write_text(solution_text.replace("return grad_output * out * (1 - out)", "return grad_output * out"))
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
