"""CUDA: the reference Functions keep tensors on the device, and the grader's hidden CUDA cases pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from course_nn import registry
from course_nn.grading import engine

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
SUBMISSIONS = ROOT / "tests" / "submissions" / "hw1"

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _reference():
    spec = importlib.util.spec_from_file_location("hw1_reference_cuda", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reference_functions_stay_on_the_device(dtype):
    f = _reference()
    dev = torch.device("cuda")
    x = torch.randn(5, 3, device=dev, dtype=dtype, requires_grad=True)
    w = torch.randn(4, 3, device=dev, dtype=dtype, requires_grad=True)
    b = torch.randn(4, device=dev, dtype=dtype, requires_grad=True)
    target = torch.randint(0, 4, (5,), device=dev)
    loss = f.CrossEntropy.apply(f.ReLU.apply(f.Linear.apply(x, w, b)), target)
    loss.backward()
    ref = torch.nn.functional.cross_entropy(torch.relu(torch.nn.functional.linear(x, w, b)), target)
    assert loss.device.type == "cuda" and loss.dtype == dtype
    torch.testing.assert_close(loss, ref)
    for t in (x, w, b):
        assert t.grad.device.type == "cuda" and t.grad.dtype == dtype


def test_grader_runs_hidden_cuda_cases_and_the_reference_passes():
    hw1 = registry.get("hw1")
    cases = engine.scoring_module(hw1).make_cases(hw1, 7, False, ("cpu", "cuda"))
    assert any(c["device"] == "cuda" for cs in cases.values() for c in cs)
    result = engine.grade(SOLUTION, hw1, seed=7, devices=("cpu", "cuda"))
    assert result.score == pytest.approx(hw1.total_points), [o for o in result.outcomes if not o.passed]


def test_a_cpu_only_forward_loses_credit_on_cuda_cases(tmp_path):
    # the correct base followed by the planted mistake, whose Square replaces the base's
    planted = [SUBMISSIONS / "correct_base.py", SUBMISSIONS / "square_cpu_only_forward.py"]
    path = tmp_path / "functions.py"
    path.write_text("\n\n".join(f.read_text() for f in planted))
    hw1 = registry.get("hw1")
    result = engine.grade(path, hw1, seed=7, devices=("cpu", "cuda"), isolate=False)
    forward = next(o for o in result.outcomes if o.task == "Square" and o.category == "forward")
    assert forward.fraction < 1
    assert any("device" in line for line in forward.lines)
