"""Fairness: correct Functions that lean on numpy and Python's standard library helpers.

numpy for the sigmoid's arithmetic (on a CPU copy, back to the input's device and dtype),
functools.reduce and operator for products, itertools for the gradients asked for, a frozen
dataclass for shapes, typing.cast and ``from torch.nn.parameter import Parameter``, a collections
namedtuple, ``math`` and ``"...".format`` in an error message. Expected: full credit.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections import namedtuple
from dataclasses import dataclass
from typing import Optional, cast

import numpy as np
import torch
from torch.autograd import Function
from torch.nn.parameter import Parameter

Pair = namedtuple("Pair", "first second")


@dataclass(frozen=True)
class Batch:
    rows: int
    columns: int

    @property
    def count(self) -> int:
        return self.rows * self.columns


def _only_asked(ctx, *grads: Optional[torch.Tensor]) -> tuple[Optional[torch.Tensor], ...]:  # noqa: UP045
    """Each gradient where ctx.needs_input_grad asks for it, else None."""
    return tuple(itertools.starmap(lambda g, need: g if need else None, zip(grads, ctx.needs_input_grad)))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        if isinstance(x, Parameter):
            x = x.detach()
        ctx.save_for_backward(x)
        return functools.reduce(operator.mul, [x, x])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return operator.mul(2 * x, grad_output)


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return functools.reduce(operator.matmul, [v, A, v])

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        return _only_asked(ctx, grad_output * (A + A.T) @ v, grad_output * torch.outer(v, v))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        a = z.detach().cpu().numpy()
        e = np.exp(-np.abs(a))  # never overflows
        s = np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        out = torch.from_numpy(np.asarray(s, dtype=a.dtype)).to(device=z.device, dtype=z.dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return cast(torch.Tensor, grad_output * s * (1 - s))


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * (z > 0).to(grad_output.dtype)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = x @ weight.T
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_b = grad_output.sum(0) if ctx.has_bias else None
        return _only_asked(ctx, grad_output @ weight, grad_output.T @ x, grad_b)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).sum() / math.prod(pred.shape)

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        local = 2 * (pred - target) / max(1, pred.numel())
        both = Pair(grad_output * local, -grad_output * local)
        return _only_asked(ctx, both.first, both.second)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        if logits.dim() != 2:
            raise ValueError("logits must be (N, C), got {} dimensions".format(logits.dim()))  # noqa: UP032
        shape = Batch(*logits.shape)
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        if target.is_floating_point():
            y = target
        else:
            y = torch.zeros_like(log_probs).scatter(1, target.unsqueeze(1), 1.0)
        ctx.save_for_backward(log_probs, y)
        return -(y * log_probs).sum() / shape.rows

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, y = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None
        return grad_output * (log_probs.exp() - y) / log_probs.shape[0], None
