"""Public tests for hw2: one test per task, each a small worked example you can check by hand.

Run them from this folder:
    pytest                  # everything
    pytest -m task2_3       # one task (task numbers are in README.md)
    pytest -k MLP           # one function or class

Each test computes what the task asks for in the plainest way it can (often with torch's built-ins,
which the tests may use) and compares it with your function. These tests are a first check;
``course-nn check mlp.py`` runs the autograder's visible checks (random cases, edge cases, the
contract, training on the spiral) and says what to fix.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from mlp import (
    MLP,
    TorchFunctions,
    collapse_linear,
    count_parameters,
    feature_map,
    perceptron_predict,
    perceptron_train,
    relu_interpolant,
    sgd_step,
    step_approximation,
    train_epoch,
    xor_perceptrons,
)


@pytest.fixture(autouse=True)
def same_numbers_every_run():
    torch.manual_seed(0)


def sign(z):
    """The lecture's sign: +1 for z >= 0, else -1."""
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def test_count_parameters():
    assert count_parameters([784, 10]) == 784 * 10 + 10  # logistic regression on MNIST: 7850
    assert count_parameters([2, 3, 1]) == (2 * 3 + 3) + (3 * 1 + 1)  # every layer: weights + biases


def test_perceptron_predict():
    X = torch.tensor([[1.0, 2.0], [-1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    w, b = torch.tensor([1.0, 1.0], dtype=torch.float64), -1.0
    # w·x + b is 2, -2 and exactly 0: the point on the boundary is +1
    assert_close(perceptron_predict(X, w, b), torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))


def test_perceptron_train():
    X = torch.randn(40, 2, dtype=torch.float64)
    y = sign(X[:, 0] - X[:, 1])  # linearly separable labels: which side of the line x1 = x2
    X = X + 0.5 * y[:, None] * torch.tensor([1.0, -1.0], dtype=torch.float64)  # a margin around the line
    w, b = perceptron_train(X, y, epochs=100)
    assert torch.equal(sign(X @ w + b), y)  # zero training errors


def test_xor_perceptrons():
    corners = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    X = corners.repeat(25, 1) + 0.35 * (torch.rand(100, 2) * 2 - 1)  # points near the four corners
    y = sign(X[:, 0] * X[:, 1])  # +1 where x1·x2 > 0
    p = xor_perceptrons()
    h = torch.stack([sign(X @ p["w_A"] + p["b_A"]), sign(X @ p["w_B"] + p["b_B"])], dim=1)
    assert torch.equal(sign(h @ p["w_C"] + p["b_C"]), y)


def relu_net(x, w1, b1, w2, b2):
    """f(x) = Σ_h w2[h] · relu(w1[h] · x + b1[h]) + b2, for every entry of x."""
    return torch.relu(x[:, None] * w1 + b1) @ w2 + b2


def test_relu_interpolant():
    knots_x = torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    knots_y = torch.tensor([1.0, -1.0, 0.0, 3.0], dtype=torch.float64)
    w1, b1, w2, b2 = relu_interpolant(knots_x, knots_y)
    assert_close(relu_net(knots_x, w1, b1, w2, b2), knots_y)  # through every knot
    between = (knots_x[:-1] + knots_x[1:]) / 2
    assert_close(relu_net(between, w1, b1, w2, b2), (knots_y[:-1] + knots_y[1:]) / 2)  # straight in between


def test_step_approximation():
    lo, hi, tol = 0.0, 3.0, 0.1
    w1, b1, w2, b2 = step_approximation(torch.sin, lo, hi, tol, lipschitz=1.0)
    x = torch.linspace(lo, hi, 2001, dtype=torch.float64)
    approx = (x[:, None] * w1 + b1 >= 0).to(torch.float64) @ w2 + b2  # Σ_h w2[h] · step(w1[h] x + b1[h]) + b2
    assert (approx - torch.sin(x)).abs().max() <= tol
    assert len(w1) <= 2 * math.ceil(1.0 * (hi - lo) / tol) + 2  # at most 2·ceil(L·(hi − lo)/tol) + 2 units


def test_collapse_linear():
    weights = [torch.randn(4, 3, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64),
               torch.randn(2, 5, dtype=torch.float64)]
    biases = [torch.randn(4, dtype=torch.float64), None, torch.randn(2, dtype=torch.float64)]
    W, b = collapse_linear(weights, biases)
    x = torch.randn(7, 3, dtype=torch.float64)
    stack = x
    for W_d, b_d in zip(weights, biases):
        stack = F.linear(stack, W_d, b_d)
    assert_close(F.linear(x, W, b), stack)


def test_mlp():
    model = MLP([3, 5, 4], activation="relu", functions=TorchFunctions)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["weight_1", "bias_1", "weight_2", "bias_2"]
    assert model.weight_1.shape == (5, 3) and model.bias_2.shape == (4,)
    x = torch.randn(8, 3)
    hidden = torch.relu(x @ model.weight_1.t() + model.bias_1)
    assert_close(model(x), hidden @ model.weight_2.t() + model.bias_2)  # no activation on the output
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())  # every weight and bias gets a gradient


def test_sgd_step():
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    (p * p).sum().backward()  # gradient 2p = [2, -4]
    sgd_step([p], lr=0.1)
    assert_close(p.detach(), torch.tensor([0.8, -1.6]))  # p − lr · grad: downhill
    assert p.grad is None or not p.grad.any()  # cleared for the next step


def test_train_epoch():
    model = MLP([2, 4, 2], activation="relu")
    batches = [(torch.randn(8, 2), torch.randint(0, 2, (8,))) for _ in range(3)]
    with torch.no_grad():
        losses = [F.cross_entropy(model(x), y).item() for x, y in batches]
    # with lr = 0 nothing moves, so the epoch's loss is the mean of these three
    assert train_epoch(model, batches, F.cross_entropy, lr=0.0) == pytest.approx(sum(losses) / 3)
    before = [p.detach().clone() for p in model.parameters()]
    train_epoch(model, batches, F.cross_entropy, lr=0.5)
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))  # with lr > 0 it learns


def circles(n, seed):
    """The trainer's circles: class 1 in the disc r < 0.5, class 0 on the ring 0.7 < r < 1."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    u = torch.rand(n, generator=g)
    r = torch.where(y == 1, 0.5 * u.sqrt(), 0.7 + 0.3 * u)
    angle = 2 * math.pi * torch.rand(n, generator=g)
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1), y


def linear_classifier_accuracy(features, y, n_train):
    """Logistic regression (gradient descent) on the standardised features of the first n_train
    points; its accuracy on the others."""
    f = features.detach().double()
    f = (f - f[:n_train].mean(0)) / f[:n_train].std(0).clamp_min(1e-12)
    w = torch.zeros(f.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    for _ in range(500):
        loss = F.binary_cross_entropy_with_logits(f[:n_train] @ w + b, y[:n_train].double())
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w -= 1.0 * gw
            b -= 1.0 * gb
    return ((f[n_train:] @ w + b >= 0).long() == y[n_train:]).double().mean().item()


def test_feature_map():
    X, y = circles(600, seed=1)
    features = feature_map(X.clone())
    assert features.dim() == 2 and features.shape[0] == 600  # one row of features per point
    assert linear_classifier_accuracy(X, y, 300) < 0.8  # on the raw inputs a line cannot do it...
    assert linear_classifier_accuracy(features, y, 300) >= 0.99  # ...on your features it must
