"""hw2: from one perceptron to a trained multilayer perceptron.

Every function and class below has a docstring that pins its inputs, outputs and shapes: the
autograder calls them exactly that way. Replace each ``raise NotImplementedError`` with your code.

Conventions used throughout:
- sign(z) = +1 if z >= 0, else -1            (the lecture's sign: sign(0) = +1)
- step(z) = 1 if z >= 0, else 0              (the unit step, used by ``step_approximation``)
- relu(z) = max(0, z)
- A layer maps x -> W x + b with W of shape (out, in), as torch.nn.Linear does; on a batch of
  row vectors X (N, in) that is X Wᵀ + b.

What this file may use (generated from the course registry; README.md lists every name):
- imports: torch, numpy, math, functools, itertools, operator, random, numbers, dataclasses, typing,
  collections (and listed submodules: torch.nn.functional, numpy.linalg, ...).
- calls and attributes: tensor and array math, Python's arithmetic helpers and built-ins, your own
  classes' attributes on self/ctx; never files, eval/exec/open, double-underscore or frame names, or
  modules as values. Anything else costs every check.
- choosing a given Function by name: getattr(functions, NAME) with NAME one of Linear, ReLU,
  Sigmoid, written out in this file.

Only this one file is submitted.

Self-check:  course-nn check mlp.py     or     pytest -m task2_3   (one task at a time)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------
# Task 1 — counting parameters


def count_parameters(layer_sizes: Sequence[int]) -> int:
    """Number of trainable parameters of a fully connected network with these layer sizes.

    ``layer_sizes = [n_0, n_1, ..., n_L]`` lists the width of the input, every hidden layer and the
    output. Layer d maps n_{d-1} values to n_d values with a weight matrix (n_d, n_{d-1}) and a bias
    vector (n_d,). Example: logistic regression on MNIST, ``[784, 10]`` -> 784·10 + 10 = 7850.

    Returns a Python int.
    """
    raise NotImplementedError("count_parameters is not implemented yet (hw2 task 1)")


# ----------------------------------------------------------------------------------------------
# Tasks 2 and 3 — the perceptron


def perceptron_predict(X: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor) -> torch.Tensor:
    """Perceptron predictions h(x) = sign(wᵀ x + b) for every row of ``X``.

    Shapes: X (N, d), w (d,), b a float or a 0-dim tensor -> (N,) tensor of +1.0 / -1.0 with X's
    dtype. sign(0) is +1 (careful: ``torch.sign(0)`` is 0).
    """
    raise NotImplementedError("perceptron_predict is not implemented yet (hw2 task 2)")


def perceptron_train(X: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rosenblatt's perceptron learning rule. Returns ``(w, b)``.

    Start from w = 0 (shape (d,), X's dtype) and b = 0 (a 0-dim tensor). One epoch visits the rows
    of X in order, i = 0, 1, ..., N-1; whenever point i is misclassified or on the boundary,

        y_i (wᵀ x_i + b) <= 0   ->   w <- w + y_i x_i,   b <- b + y_i

    (learning rate 1). Stop after ``epochs`` epochs, or earlier after an epoch with no update.
    Shapes: X (N, d), y (N,) of +1/-1 (X's dtype). On linearly separable data the rule ends with
    zero training errors (under ``perceptron_predict``) once ``epochs`` is large enough.
    Do not modify X or y.
    """
    raise NotImplementedError("perceptron_train is not implemented yet (hw2 task 3)")


# ----------------------------------------------------------------------------------------------
# Task 4 — three perceptrons for data no single line can separate


def xor_perceptrons() -> dict[str, torch.Tensor]:
    """Weights of three perceptrons that classify the XOR-style data perfectly.

    The data: points x = (x₁, x₂) within distance 0.5 of one of the four corners (±1, ±1).
    Label +1 near (1, 1) and (-1, -1) (where x₁·x₂ > 0), label -1 near (1, -1) and (-1, 1).

    The network (the lecture's classification design challenge):
        h_A(x) = sign(w_Aᵀ x + b_A)        h_B(x) = sign(w_Bᵀ x + b_B)
        z = [h_A(x), h_B(x)]
        h_C(z) = sign(w_Cᵀ z + b_C)        = the predicted label

    Returns a dict with exactly the keys "w_A", "b_A", "w_B", "b_B", "w_C", "b_C": each w a
    tensor of shape (2,), each b a float or 0-dim tensor.
    """
    raise NotImplementedError("xor_perceptrons is not implemented yet (hw2 task 4)")


# ----------------------------------------------------------------------------------------------
# Tasks 5 and 6 — universal approximation, constructively


def relu_interpolant(knots_x: torch.Tensor, knots_y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """A one-hidden-layer ReLU network through the knots, linear between them.

    Inputs: ``knots_x`` (K,) strictly increasing, ``knots_y`` (K,), K >= 2, float64.
    Returns ``(w1, b1, w2, b2)`` with w1, b1, w2 of shape (H,) and b2 a float or 0-dim tensor,
    defining the network

        f(x) = Σ_h w2[h] · relu(w1[h] · x + b1[h]) + b2

    such that f(knots_x[k]) = knots_y[k] for every k and f is linear on each interval
    [knots_x[k], knots_x[k+1]] (the piecewise-linear interpolant). Outside [knots_x[0],
    knots_x[-1]] anything goes. Any H works; K - 1 units suffice.
    """
    raise NotImplementedError("relu_interpolant is not implemented yet (hw2 task 5)")


def step_approximation(f: Callable[[torch.Tensor], torch.Tensor], lo: float, hi: float, tol: float,
                       lipschitz: float) -> tuple[torch.Tensor, ...]:
    """A one-hidden-layer network of step units within ``tol`` of ``f`` on [lo, hi].

    ``f`` takes a float64 tensor (any shape) and returns f elementwise; it is Lipschitz with the
    given constant L = ``lipschitz``: |f(u) - f(v)| <= L |u - v|.
    Returns ``(w1, b1, w2, b2)`` (shapes as in ``relu_interpolant``) defining

        f̂(x) = Σ_h w2[h] · step(w1[h] · x + b1[h]) + b2,     step(z) = 1 if z >= 0 else 0,

    with |f̂(x) - f(x)| <= tol for every x in [lo, hi], using at most 2·ceil(L·(hi - lo)/tol) + 2
    hidden units. Hint: a staircase whose steps are narrow enough that f cannot move by more than
    tol within one step.
    """
    raise NotImplementedError("step_approximation is not implemented yet (hw2 task 6)")


# ----------------------------------------------------------------------------------------------
# Task 7 — without activations, depth buys nothing


def collapse_linear(weights: Sequence[torch.Tensor],
                    biases: Sequence[torch.Tensor | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """The single linear layer equal to a stack of linear layers with no activations.

    Layer d computes x -> W_d x + b_d, with ``weights[d]`` of shape (n_{d+1}, n_d) and
    ``biases[d]`` of shape (n_{d+1},) or None (no bias). Returns ``(W, b)`` with W (n_L, n_0) and
    b (n_L,) such that W x + b equals the whole stack's output for every x. Do not modify inputs.
    """
    raise NotImplementedError("collapse_linear is not implemented yet (hw2 task 7)")


# ----------------------------------------------------------------------------------------------
# Tasks 8-10 — the multilayer perceptron and its training loop


class TorchFunctions:
    """torch's built-ins behind the hw1 interface: ``Linear.apply(x, W, b)``, ``ReLU.apply(z)``,
    ``Sigmoid.apply(z)``. Pass your own hw1 module instead (``import functions``) to train with
    your hand-written backward. The autograder passes an object like this one."""

    class Linear:
        apply = staticmethod(F.linear)

    class ReLU:
        apply = staticmethod(torch.relu)

    class Sigmoid:
        apply = staticmethod(torch.sigmoid)


class MLP(torch.nn.Module):
    """A multilayer perceptron built from the hw1 Functions.

    ``MLP(sizes, activation="relu", functions=TorchFunctions)``:
    - ``sizes = [n_0, ..., n_L]``: input width, hidden widths, output width (L layers).
    - ``activation``: "relu" or "sigmoid", applied after every layer except the last.
    - ``functions``: any object with attributes Linear, ReLU and Sigmoid, each with ``.apply``
      (your hw1 ``functions`` module, or ``TorchFunctions``). forward must call them via
      ``.apply`` — ``functions.Linear.apply(x, W, b)`` once per layer — not torch.nn layers.

    Parameters: for d = 1..L, ``self.weight_d`` of shape (n_d, n_{d-1}) and ``self.bias_d`` of
    shape (n_d,), both ``torch.nn.Parameter``, registered in the order weight_1, bias_1, weight_2,
    bias_2, ... so that ``model.parameters()`` yields them in that order. Initialise weights
    uniformly in ±1/sqrt(n_{d-1}) (as torch.nn.Linear does); biases may start at zero.

    forward: x (N, n_0) -> logits (N, n_L), float of the parameters' dtype:
        a_0 = x,   a_d = g(a_{d-1} W_dᵀ + b_d) for d < L,   output = a_{L-1} W_Lᵀ + b_L (no g).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", functions: object = TorchFunctions):
        super().__init__()
        raise NotImplementedError("MLP is not implemented yet (hw2 task 8)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("MLP.forward is not implemented yet (hw2 task 8)")


def sgd_step(parameters: Iterable[torch.Tensor], lr: float) -> None:
    """One step of gradient descent, in place: p <- p - lr · p.grad for every parameter.

    ``parameters`` is any iterable of leaf tensors with requires_grad (e.g. ``model.parameters()``,
    a generator: iterate it once). Skip parameters whose ``.grad`` is None. Update the tensors
    themselves (in place, under ``torch.no_grad()``), then clear their gradients (set ``p.grad``
    to None or zero it) so the next backward starts from zero. Returns None.
    """
    raise NotImplementedError("sgd_step is not implemented yet (hw2 task 9)")


def train_epoch(model: torch.nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
                loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], lr: float) -> float:
    """One epoch of minibatch gradient descent. Returns the mean of the batch losses (a float).

    For each ``(x, y)`` in ``batches`` (visited once, in order): ``loss = loss_fn(model(x), y)`` (a
    0-dim tensor), backpropagate it, and update with ``sgd_step(model.parameters(), lr)``. The
    gradients are None or zero when train_epoch starts. The returned value is the average of the
    losses computed before each update, as a Python float.
    """
    raise NotImplementedError("train_epoch is not implemented yet (hw2 task 10)")


# ----------------------------------------------------------------------------------------------
# Task 11 — features by hand: a map that makes the circles linearly separable


def feature_map(X: torch.Tensor) -> torch.Tensor:
    """Features of 2-D points in which a *linear* classifier separates the ``circles`` data.

    The data (the trainer's ``--task circles``): class 1 fills the disc of radius 0.5 around the
    origin, class 0 the ring 0.7 < r < 1 around it. A linear classifier draws a straight line in
    the (x₁, x₂) plane, and no line cuts a disc from the ring that surrounds it: on the raw inputs
    it stays near chance. But it draws a hyperplane in *whatever features it is given*. Choose
    features in which inside and outside differ along one direction and a threshold on that
    direction — a hyperplane in feature space — is a circle back in the plane. (A hidden layer
    learns such features from data; here you write them by hand.)

    Shapes: X (N, 2), float32 or float64 -> a float tensor (N, k) with 1 <= k <= 32, finite.
    Each row's features depend on that row only: the same point gets the same features whatever
    else is in the batch. Do not modify X. The grader trains a logistic regression on your
    features of fresh circles data and needs >= 99% test accuracy; X itself earns nothing.
    """
    raise NotImplementedError("feature_map is not implemented yet (hw2 task 11)")
