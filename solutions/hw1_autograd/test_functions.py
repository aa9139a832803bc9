"""Public tests for hw1: one test per task, the two checks PyTorch's guide "Extending
torch.autograd" recommends for a new Function.

1. forward: your output equals torch's own version of the same computation.
2. backward: ``torch.autograd.gradcheck`` nudges every input entry by a tiny step, measures how the
   output moves (finite differences), and compares that with the gradient your backward returns.
   It works in float64, where the finite differences are accurate to about 1e-9.

Run them from this folder:
    pytest                  # everything
    pytest -m task1_3       # one task (task numbers are in README.md)
    pytest -k Sigmoid       # one Function

When gradcheck fails it prints two Jacobians: "numerical" (from your forward) and "analytical" (from
your backward). Compare them entry by entry: a transposed block, a missing factor or a wrong sign is
usually visible at a glance. These tests are a first check; ``course-nn check functions.py`` runs the
autograder's visible checks (shapes, dtypes, edge cases, the rules) and says what to fix.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck
from torch.testing import assert_close

from functions import CrossEntropy, Linear, QuadraticForm, ReLU, Sigmoid, Square, SquaredError


@pytest.fixture(autouse=True)
def same_numbers_every_run():
    torch.manual_seed(0)


def rand(*shape):
    """A random float64 input that gradcheck may differentiate."""
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def test_square():
    x = rand(3, 4)
    assert_close(Square.apply(x), x * x)
    assert gradcheck(Square.apply, (x,))  # backward: 2 x ⊙ grad_output


def test_quadratic_form():
    v, A = rand(3), rand(3, 3)  # A is not symmetric: dJ/dv needs both A and Aᵀ
    assert_close(QuadraticForm.apply(v, A), v @ A @ v)
    assert gradcheck(QuadraticForm.apply, (v, A))


def test_sigmoid():
    z = rand(3, 4)
    assert_close(Sigmoid.apply(z), torch.sigmoid(z))
    assert gradcheck(Sigmoid.apply, (z,))  # backward: grad_output ⊙ g (1 − g)


def test_relu():
    # values away from the kink at 0, where finite differences straddle two slopes
    z = torch.tensor([[-2.0, -0.5, 0.3, 1.5], [0.7, -1.2, 2.5, -0.1]], dtype=torch.float64, requires_grad=True)
    assert_close(ReLU.apply(z), torch.relu(z))
    assert gradcheck(ReLU.apply, (z,))


def test_linear():
    x, weight, bias = rand(5, 3), rand(4, 3), rand(4)  # batch 5, 3 inputs, 4 outputs: no square shapes
    assert_close(Linear.apply(x, weight, bias), F.linear(x, weight, bias))
    # autograd quietly sums a bias gradient of shape (N, out) for you, so gradcheck cannot see a missing
    # sum over the batch; `course-nn check functions.py` calls backward directly and does
    assert gradcheck(Linear.apply, (x, weight, bias))
    assert_close(Linear.apply(x, weight, None), F.linear(x, weight))  # no bias
    assert gradcheck(Linear.apply, (x, weight, None))


def test_squared_error():
    pred, target = rand(5, 3), rand(5, 3)
    assert_close(SquaredError.apply(pred, target), F.mse_loss(pred, target))  # mean over all 15 elements
    assert gradcheck(SquaredError.apply, (pred, target))


def test_cross_entropy():
    logits = rand(5, 4)
    classes = torch.tensor([0, 3, 1, 3, 2])  # class indices (N,)
    probs = torch.softmax(torch.randn(5, 4, dtype=torch.float64), dim=1)  # or one probability row per example
    for target in (classes, probs):
        assert_close(CrossEntropy.apply(logits, target), F.cross_entropy(logits, target))
        assert gradcheck(lambda z: CrossEntropy.apply(z, target), (logits,))  # noqa: B023 (used right away)
    big = torch.tensor([[1e4, 0.0, -1e4]], dtype=torch.float64)  # must not overflow: subtract the row max
    assert_close(CrossEntropy.apply(big, torch.tensor([0])), F.cross_entropy(big, torch.tensor([0])))
