"""The mistakes typical of each hw1 Function, as hooks of its ``FunctionSpec`` (see specs.py).

Each hook looks at one case and what the submission returned and names the likely slip ("" when
it knows none); ``relu_accept`` widens what counts as right (any subgradient at ReLU's kink).
"""

from __future__ import annotations

import torch


def no_hint(*_args) -> str:
    return ""


def general(_case: dict, _out: torch.Tensor, _ref: torch.Tensor, general: str) -> str:
    return general


def exact(_case: dict, _got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    return want



def sigmoid_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    if torch.allclose(out.double(), 1 - ref.double(), atol=1e-6):
        return "the sign in the exponent — g(z) = 1 / (1 + e^(-z))"
    return general


def sigmoid_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    z, g = case["inputs"][0].double(), case["grad_output"].double()
    if torch.allclose(got.double(), g * z * (1 - z), rtol=1e-5, atol=1e-9):  # saved the input z, not the output
        return "you used the input z where the derivative needs the output σ(z): dσ/dz = σ(z)(1 − σ(z)); save the output"
    return ""


# ReLU: z of shape (N, D), away from the kink unless the case is about it.


def relu_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    z = case["inputs"][0]
    off = ~torch.isclose(got.double(), want.double(), rtol=1e-6, atol=1e-9)
    if not bool(off.any()):
        return ""
    if bool((off <= (z == 0)).all()):
        return ("at exactly z = 0 the gradient must be c · grad_output with c in [0, 1] (0 like torch, 1 like "
                "the lecture): both are subgradients")
    near = (z != 0) & (z.abs() < 1e-6)
    if not case.get("accuracy") and bool(near.any()) and bool((off <= near).all()):  # (accuracy cases say it their way)
        return ("it is off only where z is within 1e-6 of the kink but not 0 (the derivative there is exactly "
                "1 for z > 0 and 0 for z < 0): a numerical derivative, whose step straddles the kink — "
                "code the formula [z > 0] · grad_output")
    if bool((off <= (z <= 0)).all()):
        return ("the gradient leaks where the output is 0 (z ≤ 0): a mask built from the output must be "
                "[g > 0], not [g ≥ 0] (g = max(0, z) is never negative)")
    return ""


def relu_accept(case: dict, got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    """At exactly z = 0 any value in [0, 1] times grad_output is a subgradient, so accept it there."""
    z, g = case["inputs"][0], case["grad_output"].double()
    kink = z == 0
    if not bool(kink.any()) or got.shape != want.shape:
        return want
    lo, hi = torch.minimum(g, torch.zeros_like(g)), torch.maximum(g, torch.zeros_like(g))
    slack = 1e-6 * (1 + g.abs())
    a = got.double()
    inside = kink & (a >= lo - slack) & (a <= hi + slack)
    return torch.where(inside, a, want.double())


# QuadraticForm: v of shape (k,), A of shape (k, k).


def quadratic_grad_hint(name: str, case: dict, got: torch.Tensor, want: torch.Tensor) -> str:
    if name != "v":
        return ""
    v, a = (t.double() for t in case["inputs"])
    if torch.allclose(got.double(), 2 * a @ v * case["grad_output"].double(), rtol=1e-5, atol=1e-9):
        return "2Av holds only for symmetric A — use (A + Aᵀ)v"
    return ""


# Linear: x (N, in), weight (out, in) as in F.linear, bias (out,) or None.

LAYOUT = ("weight has F.linear's layout (out, in): y = x Wᵀ + b is x.mm(weight.t()), not x @ weight; "
          "in backward dJ/dx = G W and dJ/dW = Gᵀ x")



def is_x_at_w(case: dict, out: torch.Tensor) -> bool:
    """Did forward compute x @ W (+ b), the (in, out) layout, instead of x Wᵀ + b?"""
    x, w, b = (t.double() if isinstance(t, torch.Tensor) else t for t in case["inputs"])
    if w.shape[0] != w.shape[1]:
        return False
    want = x @ w + (b if b is not None else 0)
    return tuple(out.shape) == tuple(want.shape) and torch.allclose(out.double(), want, rtol=1e-4, atol=1e-6)


def linear_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    return LAYOUT if is_x_at_w(case, out) else general


def linear_shape_hint(name: str, got: torch.Tensor, want: torch.Tensor) -> str:
    per_example = got.dim() == want.dim() + 1 and tuple(got.shape[1:]) == tuple(want.shape)
    if name == "bias" and (per_example or (got.dim() == 2 and got.shape[-1] == want.shape[0])):
        return "did you forget to sum the bias gradient over the batch (dim 0)?"
    if name == "weight" and tuple(got.shape) == tuple(want.shape[::-1]):
        return "dJ/dW has W's shape (out, in): use grad_outputᵀ · x"
    return ""


# SquaredError and CrossEntropy: losses, one number for the batch.


PROBABILITY_LOSS = "−(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k"


def probability_targets(case: dict) -> bool:
    return case["inputs"][1].is_floating_point()


def cross_entropy_forward_hint(case: dict, out: torch.Tensor, ref: torch.Tensor, general: str) -> str:
    if general or not probability_targets(case):
        return general
    return "with probability targets the loss is -(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k"


def cross_entropy_raise_hint(case: dict) -> str:
    if not probability_targets(case):
        return ""
    return (" (the target is (N, C) class probabilities) — likely mistake: only integer class indices "
            f"are handled; with probability rows the loss is {PROBABILITY_LOSS}")


OVERFLOW = "exp overflowed — "
