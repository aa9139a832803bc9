"""What the grader knows about each hw1 Function: one ``FunctionSpec`` per Function in ``SPECS``.

Its inputs, torch's built-in (the reference, in float64), its arguments' names, its edge cases and
the mistakes typical of it; everything else in the package is the same for every Function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from course_nn.grading.hw1 import inputs
from course_nn.grading.hw1.mistakes import (
    LAYOUT,
    OVERFLOW,
    PROBABILITY_LOSS,
    cross_entropy_forward_hint,
    cross_entropy_raise_hint,
    exact,
    general,
    linear_forward_hint,
    linear_shape_hint,
    no_hint,
    quadratic_grad_hint,
    relu_accept,
    relu_grad_hint,
    sigmoid_forward_hint,
    sigmoid_grad_hint,
)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the grader knows about one Function; the hooks default to "nothing special"."""

    # (g, shape, dtype, small, variant) -> forward's arguments (inputs.py)
    inputs: Callable[..., list]
    reference: Callable[..., torch.Tensor]  # torch's built-in: the thing students may not call
    input_names: tuple[str, ...]  # forward's arguments as the handout names them
    edge_cases: tuple[tuple[str, dict], ...]  # (label, options of the case)
    needs: tuple[bool, ...] | None = None  # which inputs get a gradient; None: every floating tensor
    # (variant, label prefix, indices of the inputs that may need a gradient): the contract cases draw every
    # other combination of needs_input_grad over them (all of them: the random cases)
    grad_inputs: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    any_shape: bool = False  # forward takes inputs of any shape: the contract draws 0-dim, 1-D and 3-D ones
    # Inputs where a numerical derivative (finite differences) is inaccurate, each with its tolerance
    # (rtol, atol) when tighter than the dtype's: (label, options). An analytic backward passes them.
    accuracy: tuple[tuple[str, dict], ...] = ()
    wide: dict = field(default_factory=lambda: {"batch": 2, "shape": (2, 96)})  # a wide main case's options
    shared: tuple[str, ...] = ()  # inputs the whole batch shares: their gradient is a sum over it
    error_hints: tuple[tuple[str, str], ...] = ()  # (text in an exception's message, likely mistake)
    overflow_hint: str = "the output has nan or inf"  # forward gave nan/inf where torch's is finite
    # (case, out, ref, general hint) -> likely mistake in forward's value; the general one is a scale slip
    forward_hint: Callable[[dict, torch.Tensor, torch.Tensor, str], str] = general
    raise_hint: Callable[[dict], str] = no_hint  # (case) -> said after an exception from forward
    # (name, case, got, want) -> a gradient mistake only this Function makes ("" when none)
    grad_hint: Callable[[str, dict, torch.Tensor, torch.Tensor], str] = no_hint
    # (name, got, want) -> the same for a gradient of the wrong shape
    shape_hint: Callable[[str, torch.Tensor, torch.Tensor], str] = no_hint
    mean_over: str = ""  # a loss: what its mean runs over, if more than the batch
    # (case, got, want) -> ``want`` with the other answers this Function accepts put in
    accept: Callable[[dict, torch.Tensor, torch.Tensor], torch.Tensor] = exact


# Square and Sigmoid: x of shape (N, D), elementwise.


# A precision case: float64 at moderate inputs, where the formulas are exact to a few units in the last
# place but a finite difference (even at its best step, even of a log-space form) is off by about 1e-11:
# (rtol, atol, atol per unit of the largest expected |value|: entries near 0 beside large ones).
PRECISION = (1e-12, 0.0, 1e-12)


SPECS: dict[str, FunctionSpec] = {
    "Square": FunctionSpec(
        inputs.elementwise_inputs, lambda x: x * x, ("x",),
        (("batch size 1", {"batch": 1}), ("float32 inputs", {"dtype": torch.float32})), any_shape=True,
        accuracy=(("large |x| (about 1e8)", {"variant": "huge"}),)),
    "QuadraticForm": FunctionSpec(
        inputs.quadratic_inputs, lambda v, a: v @ a @ v, ("v", "A"), (("n = 1", {"variant": "n1"}),),
        grad_inputs=(("", "", (0, 1)),), grad_hint=quadratic_grad_hint,
        accuracy=(("entries about 1e6", {"variant": "huge"}),), wide={"variant": "wide"}),
    "Sigmoid": FunctionSpec(
        inputs.elementwise_inputs, torch.sigmoid, ("z",),
        (("batch size 1", {"batch": 1}), ("large |z| (±800): no overflow to nan", {"variant": "large"}),
         ("float32 inputs", {"dtype": torch.float32})),
        overflow_hint=OVERFLOW + "write g(z) = 1 / (1 + exp(-z)), which is finite for any z",
        forward_hint=sigmoid_forward_hint, grad_hint=sigmoid_grad_hint, any_shape=True,
        accuracy=(("z from +16 to +19 (relative tolerance 1e-7)",
                   {"variant": "saturated", "shape": (4, 16), "tol": (1e-7, 0.0)}),
                  ("z from -4 to +4 in float64 (relative tolerance 1e-12)",
                   {"variant": "moderate", "shape": (4, 16), "tol": PRECISION}))),
    "ReLU": FunctionSpec(
        inputs.relu_inputs, torch.relu, ("z",),
        (("inputs exactly 0 (any value in [0, 1] at the kink)", {"variant": "zeros"}),
         ("batch size 1", {"batch": 1})),
        grad_hint=relu_grad_hint, accept=relu_accept, any_shape=True,
        accuracy=(("tiny |z| (about 1e-9)", {"variant": "tiny", "tol": (1e-6, 0.0)}),)),
    "Linear": FunctionSpec(
        inputs.linear_inputs, F.linear, ("x", "weight", "bias"),
        (("with bias=None", {"variant": "nobias"}), ("batch size 1", {"batch": 1}),
         ("square weight (in = out)", {"variant": "square"}), ("in_features = 1", {"variant": "in1"}),
         ("out_features = 1", {"variant": "out1"})),
        grad_inputs=(("", "", (0, 1, 2)), ("nobias", "with bias=None, ", (0, 1))), shared=("weight", "bias"),
        accuracy=(("entries about 1e6", {"variant": "huge"}),), wide={"batch": 2, "variant": "wide"},
        error_hints=(("cannot be multiplied", LAYOUT), ("size mismatch", LAYOUT),
                     ("NoneType", "bias can be None: then y = x Wᵀ and the bias gradient is None")),
        forward_hint=linear_forward_hint, shape_hint=linear_shape_hint),
    "SquaredError": FunctionSpec(
        inputs.pair_inputs, F.mse_loss, ("pred", "target"),
        (("batch size 1", {"batch": 1}),), grad_inputs=(("", "", (0, 1)),), any_shape=True,
        accuracy=(("large and tiny differences together (relative tolerance 1e-6)",
                   {"variant": "mixed", "tol": (1e-6, 0.0)}),),
        mean_over=" (over all M = N·D elements)"),
    "CrossEntropy": FunctionSpec(
        inputs.cross_entropy_inputs, F.cross_entropy, ("logits", "target"),
        (("logits 1e4 (finite and stable)", {"variant": "large"}),
         ("probability targets", {"variant": "probs"}), ("batch size 1", {"batch": 1}),
         ("float32 inputs, logits 1e4", {"variant": "large", "dtype": torch.float32,
                                          # stability is the point: at 1e4, float32 rounds log p by ~1e-3
                                          "tol": (1e-2, 1e-4)})),
        accuracy=(("logits in float64 (relative tolerance 1e-12)", {"tol": PRECISION}),),
        needs=(True, False), wide={"batch": 2, "variant": "wide"},  # the target gets no gradient
        error_hints=(("expected scalar type Long", "with probability targets (a float (N, C) target) there is no "
                                                   f"class index to gather: use {PROBABILITY_LOSS}"),),
        overflow_hint=OVERFLOW + "subtract each row's maximum logit before exp (stable softmax)",
        forward_hint=cross_entropy_forward_hint, raise_hint=cross_entropy_raise_hint),
}


def make_inputs(task: str, g: torch.Generator, dtype, small: bool = False, batch: int | None = None,
                variant: str = "", shape: tuple[int, ...] | None = None) -> list:
    """Random inputs for one call of ``task`` (a list in forward's argument order); ``shape`` is a
    contract case's own shape, else (N, D) is drawn (N = ``batch`` when given)."""
    n = batch if batch is not None else inputs.size(g, 3, 4 if small else 7)
    d = inputs.size(g, 2, 4 if small else 9, avoid=(n,))
    return SPECS[task].inputs(g, (n, d) if shape is None else tuple(shape), dtype, small, variant)


def reference(task: str, inputs: list) -> torch.Tensor:
    """torch's built-in version of ``task`` (the thing students may not call)."""
    return SPECS[task].reference(*inputs)


def differentiable(x) -> bool:
    return isinstance(x, torch.Tensor) and x.is_floating_point()


def default_needs(task: str, inputs: list) -> list[bool]:
    needs = SPECS[task].needs
    return list(needs) if needs is not None else [differentiable(x) for x in inputs]


def reference_grads(task: str, inputs: list, needs: list[bool], grad_output: torch.Tensor) -> list:
    """dJ/d(input) for each input (None where not needed), computed in float64 by autograd.

    As the gradient of sum(out · dJ/dout): the upstream gradient reaches ``out`` as 1 · dJ/dout, the
    same numbers as passing it to autograd.grad, whose check of its shape would import sympy (0.4 s in
    every grader that starts; ``grad_output`` always has ``out``'s shape here)."""
    x64 = [x.detach().double().requires_grad_(n) if differentiable(x) else x for x, n in zip(inputs, needs)]
    out = reference(task, x64)
    wanted = [x for x, n in zip(x64, needs) if n and differentiable(x)]
    upstream = grad_output.double()
    if wanted and tuple(upstream.shape) != tuple(out.shape):
        raise ValueError(f"upstream gradient of shape {tuple(upstream.shape)} for an output of shape {tuple(out.shape)}")
    grads = iter(torch.autograd.grad((out * upstream).sum(), wanted) if wanted else [])
    return [next(grads) if (n and differentiable(x)) else None for x, n in zip(x64, needs)]

