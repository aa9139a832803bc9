"""course_nn.impl: loading the hw1 Functions from solutions, torch, or a student's file by path."""

from __future__ import annotations

import pytest
import torch

from course_nn.errors import UsageError
from course_nn.impl import REQUIRED, load_functions, not_implemented_message, torch_functions

STUB = '''
import torch
from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        raise NotImplementedError("Linear.forward")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


class ReLU(Linear):
    pass


Sigmoid = CrossEntropy = SquaredError = ReLU
'''


def test_solutions_and_torch_have_every_function():
    for impl in ("solutions", "torch"):
        fns = load_functions(impl)
        for name in REQUIRED:
            assert callable(getattr(fns, name).apply), (impl, name)
    assert load_functions("solutions").source.name == "functions.py"
    assert torch_functions().source is None


def test_torch_builtins_agree_with_solutions():
    sol, ref = load_functions("solutions"), torch_functions()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    w = torch.randn(4, 3, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 3, 1, 2, 3])
    torch.testing.assert_close(sol.Linear.apply(x, w, b), ref.Linear.apply(x, w, b))
    torch.testing.assert_close(sol.Linear.apply(x, w, None), ref.Linear.apply(x, w, None))
    for name in ("ReLU", "Sigmoid", "Square"):
        torch.testing.assert_close(getattr(sol, name).apply(x), getattr(ref, name).apply(x))
    logits = sol.Linear.apply(x, w, b)
    torch.testing.assert_close(sol.CrossEntropy.apply(logits, t), ref.CrossEntropy.apply(logits, t))
    torch.testing.assert_close(sol.SquaredError.apply(x, x * 2), ref.SquaredError.apply(x, x * 2))
    v, A = x[0], torch.randn(3, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(sol.QuadraticForm.apply(v, A), ref.QuadraticForm.apply(v, A))


def test_files_load_under_unique_module_names(tmp_path):
    a, b = tmp_path / "a" / "functions.py", tmp_path / "b" / "functions.py"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text(STUB)
    fa, fb = load_functions(str(a)), load_functions(str(b))
    assert fa.Linear is not fb.Linear
    assert fa.source == a.resolve()


def test_import_error_names_file_line_and_error(tmp_path):
    path = tmp_path / "functions.py"
    path.write_text("import torch\n\nvalue = undefined_name\n")
    with pytest.raises(UsageError, match=r"functions\.py:3: NameError: name 'undefined_name' is not defined"):
        load_functions(str(path))
    path.write_text("def broken(:\n    pass\n")
    with pytest.raises(UsageError, match=r"functions\.py:1: SyntaxError"):
        load_functions(str(path))


def test_missing_class_is_named(tmp_path):
    path = tmp_path / "functions.py"
    path.write_text(STUB.replace("Sigmoid = CrossEntropy = SquaredError = ReLU", "Sigmoid = SquaredError = ReLU"))
    with pytest.raises(UsageError, match="no class CrossEntropy"):
        load_functions(str(path))


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_functions(str(tmp_path / "nope.py"))


def test_not_implemented_message_names_the_function(tmp_path):
    path = tmp_path / "functions.py"
    path.write_text(STUB)
    fns = load_functions(str(path))
    with pytest.raises(NotImplementedError) as info:
        fns.Linear.apply(torch.ones(2, 2), torch.ones(2, 2))
    message = not_implemented_message(fns, info.value)
    assert message.startswith("Linear.forward is not implemented yet")
    assert str(path.resolve()) in message


WRONG_COUNT = '''
import torch
from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output @ weight, grad_output.t() @ x


ReLU = Sigmoid = CrossEntropy = SquaredError = Linear
'''


def _failure(path, source: str):
    from course_nn.impl import describe_failure

    path.write_text(source)
    fns = load_functions(str(path))
    x, w, b = (torch.randn(*s, requires_grad=True) for s in ((4, 3), (2, 3), (2,)))
    with pytest.raises(RuntimeError) as info:
        fns.Linear.apply(x, w, b).sum().backward()
    return describe_failure(fns, info.value)


def test_wrong_number_of_gradients_names_them(tmp_path):
    failure = _failure(tmp_path / "functions.py", WRONG_COUNT)
    assert failure.owner == "Linear.backward"
    assert failure.line.startswith("Linear.backward returned 2 gradients but forward takes 3 inputs")
    assert "(grad_x, grad_weight, grad_bias)" in failure.line
    assert f"{(tmp_path / 'functions.py').resolve()}:13" in failure.line  # the def of backward


def test_transposed_input_gradient_gets_the_input_hint(tmp_path):
    source = WRONG_COUNT.replace("return grad_output @ weight, grad_output.t() @ x",
                                 "return (grad_output @ weight).t(), grad_output.t() @ x, grad_output.sum(0)")
    failure = _failure(tmp_path / "functions.py", source)
    assert "gradient for x (index 0) of shape (3, 4), expected (4, 3)" in failure.line
    assert "use grad_output · W" in failure.line


def test_unrelated_errors_are_not_blamed_on_the_implementation():
    from course_nn.impl import describe_failure

    fns = load_functions("solutions")
    with pytest.raises(RuntimeError) as info:
        torch.ones(2, 3) @ torch.ones(2, 3)
    assert describe_failure(fns, info.value) is None
    assert describe_failure(fns, info.value, fallback=True).line.startswith("running the network through")
