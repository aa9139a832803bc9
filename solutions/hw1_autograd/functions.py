"""hw1: autograd Functions with a hand-written backward.

Each class below is a ``torch.autograd.Function``: ``forward`` computes the layer's output,
``backward`` receives the upstream gradient dJ/dy (``grad_output``) and returns dJ/dx for each
input — a vector-Jacobian product. You never build the Jacobian itself:

    dJ/dx = dJ/dy · ∂y/∂x        (numerator layout: dJ/dy is a row, ∂y/∂x is outputs × inputs)

In words: the upstream gradient times the local derivative. For an elementwise function the
Jacobian is diagonal and the product is just ``grad_output * local_derivative``.

Rules (the autograder checks them):
- Do not call torch's built-in version of what you implement (torch.sigmoid, F.relu, F.linear,
  F.cross_entropy, F.mse_loss, ...) and do not call autograd (torch.autograd.grad, .backward())
  anywhere in this file. Primitives such as exp, log, clamp, where, sum, mm, matmul, logsumexp are fine.
- Write each derivative's formula: a numerical derivative (finite differences, the complex step)
  in forward or backward earns no backward, gradcheck or edge credit. A backward that takes its
  values out of torch (numpy, Python numbers) cannot be checked for this, so the course may review
  it by hand: compute gradients with tensor operations.
- Save tensors for backward with ``ctx.save_for_backward(...)`` only; keep plain Python values
  (flags, sizes) as ctx attributes.
- Never modify an input or ``grad_output`` in place (no ``+=``, ``*=``, ``.add_()`` on them).
- Return one gradient per input of ``forward``, with exactly that input's shape and dtype, or
  ``None`` where ``ctx.needs_input_grad`` says the input needs none.

What this file may use (generated from the course registry; README.md lists every name):
- imports: torch, numpy, math, functools, itertools, operator, random, numbers, dataclasses, typing,
  collections (and listed submodules: torch.nn.functional, numpy.linalg, ...).
- calls and attributes: tensor and array math, Python's arithmetic helpers and built-ins, your own
  classes' attributes on self/ctx; never files, eval/exec/open, double-underscore or frame names, or
  modules as values. Anything else costs every check.
- shortcuts (cost that Function its credit): each Function's own built-in under any alias
  (torch.sigmoid, x.sigmoid(), torch.special.expit, nn.Sigmoid, ...) and autograd.

Self-check:  course-nn check functions.py     or     pytest -m task1_3   (one task at a time)
"""

from __future__ import annotations

import torch
from torch.autograd import Function


class Square(Function):
    r"""Warm-up: square each element, y = x ** 2.

    The Jacobian is diagonal, ∂y/∂x = diag(2x), so the vector-Jacobian product is elementwise:
        dJ/dx = dJ/dy · diag(2x) = 2 x ⊙ dJ/dy

    Shapes: x (any shape: 0-dim, 1-D, 2-D, 3-D, ...) -> y (same shape). dtype and device follow x.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        ctx.save_for_backward(x)
        return x * x
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output  # local derivative 2x times upstream gradient
        # END SOLUTION


class QuadraticForm(Function):
    r"""Warm-up: the quadratic form f(v, A) = vᵀ A v, a scalar.

    From the lecture's exercise (A need not be symmetric):
        ∂f/∂v = (A + Aᵀ) v          ∂f/∂A = v vᵀ     (∂f/∂A_ij = v_i v_j)
    With upstream gradient g = dJ/df (a 0-dim tensor):
        dJ/dv = g · (A + Aᵀ) v       dJ/dA = g · v vᵀ

    Shapes: v (n,), A (n, n) -> f () (0-dim). Returns (grad_v (n,), grad_A (n, n)).
    """

    @staticmethod
    def forward(ctx, v: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        ctx.save_for_backward(v, A)
        return v @ (A @ v)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        # BEGIN SOLUTION
        v, A = ctx.saved_tensors
        grad_v = grad_A = None
        if ctx.needs_input_grad[0]:
            grad_v = grad_output * (A @ v + A.t() @ v)
        if ctx.needs_input_grad[1]:
            grad_A = grad_output * torch.outer(v, v)
        return grad_v, grad_A
        # END SOLUTION


class Sigmoid(Function):
    r"""The logistic sigmoid, elementwise: g(z) = 1 / (1 + e^{-z}).

    Local derivative, from the lecture, written with the output itself:
        dg/dz = g(z) (1 − g(z))
    Backward is local derivative times upstream gradient, elementwise:
        dJ/dz = dJ/dg ⊙ g (1 − g)
    Saving the output g (not the input z) means backward need not recompute e^{-z}.

    Shapes: z (any shape: 0-dim, 1-D, 2-D, 3-D, ...) -> g (same shape). dtype and device follow z.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        out = 1 / (1 + torch.exp(-z))  # exp(-z) = inf for very negative z gives exactly 0: no NaN
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)
        # END SOLUTION


class ReLU(Function):
    r"""The rectified linear unit, elementwise: g(z) = max(0, z).

    Local derivative: 1 where z > 0 and 0 where z < 0. At the kink z = 0 any value in [0, 1] is a
    subgradient; the lecture writes 1 for z ≥ 0, torch uses 0, and the grader accepts either. Since g > 0 exactly
    where z > 0, the mask can be read off the output:
        dJ/dz = dJ/dg ⊙ [g > 0]          ([·] is 1 where true, 0 where false)

    Shapes: z (any shape: 0-dim, 1-D, 2-D, 3-D, ...) -> g (same shape). dtype and device follow z.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        out = z.clamp(min=0)  # max(0, z) elementwise
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        (out,) = ctx.saved_tensors
        return grad_output * (out > 0)  # upstream gradient where the unit was on, 0 where it was off
        # END SOLUTION


class Linear(Function):
    r"""A fully connected layer: y = x Wᵀ + b, like ``torch.nn.functional.linear``.

    Row n of the batch is one example: y_{n,j} = Σ_i x_{n,i} W_{j,i} + b_j. With G = dJ/dy:
        dJ/dx = G W          (N, out) @ (out, in)  -> (N, in)
        dJ/dW = Gᵀ x         (out, N) @ (N, in)    -> (out, in)
        dJ/db = Σ_n G_{n,:}  sum over the batch    -> (out,)
    The bias feeds every example, so its gradient accumulates (+=) over the batch.

    Shapes: x (N, in), weight (out, in), bias (out,) or None -> y (N, out); N, in and out may be 1.
    Returns (grad_x, grad_weight, grad_bias), each exactly its input's shape; None where
    ``ctx.needs_input_grad`` is False (any combination of the three) or bias is None.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        # BEGIN SOLUTION
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None  # a plain flag: ctx attribute, not save_for_backward
        out = x.mm(weight.t())
        if bias is not None:
            out = out + bias  # (out,) broadcasts over the N rows
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # BEGIN SOLUTION
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_w = grad_output.t().mm(x)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
        # END SOLUTION


class SquaredError(Function):
    r"""Mean squared error, like ``torch.nn.functional.mse_loss``: J = (1/M) Σ (pred − target)².

    M is the number of elements. Local derivatives: ∂J/∂pred = 2 (pred − target) / M and
    ∂J/∂target = −2 (pred − target) / M. Times the upstream g = dJ_total/dJ (a 0-dim tensor):
        dJ/dpred   =  g · 2 (pred − target) / M
        dJ/dtarget = −g · 2 (pred − target) / M

    Shapes: pred (any shape: 0-dim, 1-D, 2-D, 3-D, ...), target (same shape) -> J () (0-dim).
    Returns (grad_pred, grad_target); None where ``ctx.needs_input_grad`` is False.
    """

    @staticmethod
    def forward(ctx, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        ctx.save_for_backward(pred, target)
        diff = pred - target
        return (diff * diff).mean()
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        # BEGIN SOLUTION
        pred, target = ctx.saved_tensors
        local = 2 * (pred - target) / pred.numel()  # ∂J/∂pred
        grad_pred = grad_output * local if ctx.needs_input_grad[0] else None
        grad_target = -grad_output * local if ctx.needs_input_grad[1] else None
        return grad_pred, grad_target
        # END SOLUTION


class CrossEntropy(Function):
    r"""Softmax cross-entropy averaged over the batch, like ``torch.nn.functional.cross_entropy``.

    For logits z (N, C) and targets y (one row of class probabilities per example), with the
    lecture's loss ℓ(y, ŷ) = −Σ_k y_k log ŷ_k and ŷ = softmax(z):
        J = −(1/N) Σ_n Σ_k y_{n,k} log softmax(z_n)_k
    Integer class indices t (N,) mean y = one_hot(t): row n is 1 at column t_n and 0 elsewhere.

    Stable log-softmax: subtract the row maximum m_n before exponentiating,
        log softmax(z_n)_k = (z_{n,k} − m_n) − log Σ_j e^{z_{n,j} − m_n}
    so logits of size 1e4 give finite values.

    Gradient (each row of y sums to 1):  dJ/dz = g · (softmax(z) − y) / N,  g the upstream 0-dim
    gradient: the predicted probabilities minus the one-hot target. The target gets no gradient (None).

    Shapes: logits (N, C); target (N,) int64 or (N, C) float -> J () (0-dim).
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        if target.is_floating_point():
            y = target  # already one row of class probabilities per example
        else:
            eye = torch.eye(logits.shape[1], dtype=logits.dtype, device=logits.device)
            y = eye[target.long()]  # one_hot(t_n) is row t_n of the identity matrix
        ctx.save_for_backward(log_probs, y)
        return -(y * log_probs).sum() / logits.shape[0]
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, None]:
        # BEGIN SOLUTION
        log_probs, y = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None
        probs = log_probs.exp()  # softmax(z), the network's predicted ŷ
        return grad_output * (probs - y) / probs.shape[0], None
        # END SOLUTION
