"""The MLPs the benchmark compares, and the loader for a functions.py.

Every model is the same 784-256-256-10 network with the same weights and data:

    hand-written:  Linear.apply -> ReLU.apply -> Linear.apply -> ReLU.apply -> Linear.apply -> CrossEntropy.apply
    built-ins:     F.linear     -> F.relu     -> F.linear     -> F.relu     -> F.linear     -> F.cross_entropy

The hand-written Functions come from the tuned variant (:data:`TUNED_FUNCTIONS`), the teaching reference
(solutions/, or any functions.py), or the floor (:data:`KERNEL_FUNCTIONS`).

One training step is forward, ``loss.backward()`` and plain SGD, ``p -= lr * p.grad`` under
``torch.no_grad()`` with the gradients set back to None, so the two sides run the same optimiser code
and differ only in how the layers are written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd import Function

from course_nn.bench import tuned
from course_nn.errors import UsageError

LAYER_SIZES: tuple[int, ...] = (784, 256, 256, 10)
REQUIRED_FUNCTIONS: tuple[str, ...] = ("Linear", "ReLU", "CrossEntropy")

# A forward is loss = forward(params, x, target); params = [W1, b1, W2, b2, W3, b3].
Forward = Callable[[Sequence[torch.Tensor], torch.Tensor, torch.Tensor], torch.Tensor]


def load_functions(path: Path) -> ModuleType:
    """Import a hw1 ``functions.py`` by file path and check it has what the MLP needs (one line, exit 2, if not)."""
    from course_nn.impl import load_module

    module = load_module(path)
    missing = [n for n in REQUIRED_FUNCTIONS if not isinstance(getattr(module, n, None), type)]
    if missing:
        raise UsageError(f"{path} does not define {', '.join(missing)} (the MLP needs {', '.join(REQUIRED_FUNCTIONS)})")
    return module


def init_params(device: torch.device, seed: int = 0) -> list[torch.Tensor]:
    """Kaiming-uniform-like weights (out, in) and zero biases (out,), float32, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    params: list[torch.Tensor] = []
    for fan_in, fan_out in zip(LAYER_SIZES[:-1], LAYER_SIZES[1:]):
        bound = (6.0 / fan_in) ** 0.5
        weight = (torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * bound
        params += [weight, torch.zeros(fan_out)]
    return [p.to(device).requires_grad_() for p in params]


def clone_params(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """An independent copy (same values) so each model trains its own weights."""
    return [p.detach().clone().requires_grad_() for p in params]


def make_batch(batch: int, device: torch.device, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """x (batch, 784) float32 in [0, 1) like MNIST pixels, target (batch,) int64 class indices in [0, 10)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, LAYER_SIZES[0], generator=gen)
    target = torch.randint(0, LAYER_SIZES[-1], (batch,), generator=gen)
    return x.to(device), target.to(device)


def builtin_forward(params: Sequence[torch.Tensor], x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The MLP from torch's own layers: the baseline every ratio divides by."""
    w1, b1, w2, b2, w3, b3 = params
    h = F.relu(F.linear(x, w1, b1))
    h = F.relu(F.linear(h, w2, b2))
    return F.cross_entropy(F.linear(h, w3, b3), target)


def reference_forward(functions: Any) -> Forward:
    """The same MLP from the hand-written Functions of ``functions`` (a module or any object with the three classes)."""
    linear, relu, cross_entropy = functions.Linear.apply, functions.ReLU.apply, functions.CrossEntropy.apply

    def forward(params: Sequence[torch.Tensor], x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2, w3, b3 = params
        h = relu(linear(x, w1, b1))
        h = relu(linear(h, w2, b2))
        return cross_entropy(linear(h, w3, b3), target)

    return forward


def sgd_step(forward: Forward, params: Sequence[torch.Tensor], x: torch.Tensor, target: torch.Tensor, lr: float = 0.01) -> torch.Tensor:
    """One training step: loss, backward, ``p -= lr * p.grad``, gradients set to None. Returns the loss (detached)."""
    loss = forward(params, x, target)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.detach()


# ---------------------------------------------------------------------------------------------------------
# Function styles. torch offers two ways to write a Function: the classic ``forward(ctx, *inputs)`` and the
# newer ``forward(*inputs)`` + ``setup_context(ctx, inputs, output)``. To measure what the style alone costs,
# both adapters below wrap the *same* classic class: its forward runs against a recording context, and the
# recording is replayed onto torch's real ctx - inside forward (classic) or inside setup_context (new style).
# The two adapters do identical extra Python work, so their ratio isolates the style; the math is untouched.
# ---------------------------------------------------------------------------------------------------------


class _RecordingCtx:
    """Stands in for ctx while a classic forward runs; remembers what it did so it can be replayed."""

    def __init__(self, inputs: tuple[Any, ...]) -> None:
        self.__dict__["_calls"] = []
        self.__dict__["needs_input_grad"] = tuple(isinstance(a, torch.Tensor) and a.requires_grad for a in inputs)

    def save_for_backward(self, *tensors: Any) -> None:
        self._calls.append(("save_for_backward", tensors))

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._calls.append(("mark_non_differentiable", tensors))

    def mark_dirty(self, *tensors: Any) -> None:
        self._calls.append(("mark_dirty", tensors))

    def set_materialize_grads(self, value: bool) -> None:
        self._calls.append(("set_materialize_grads", (value,)))

    def replay(self, ctx: Any) -> None:
        for key, value in self.__dict__.items():
            if key not in ("_calls", "needs_input_grad"):
                setattr(ctx, key, value)
        for method, args in self._calls:
            getattr(ctx, method)(*args)


def classic_adapter(cls: type) -> type:
    """``cls`` re-wrapped in classic style through the recording ctx (the control for :func:`setup_context_adapter`)."""
    original_forward = cls.forward

    def forward(ctx: Any, *inputs: Any) -> Any:
        rec = _RecordingCtx(inputs)
        out = original_forward(rec, *inputs)
        rec.replay(ctx)
        return out

    return type(f"Classic{cls.__name__}", (Function,), {"forward": staticmethod(forward), "backward": staticmethod(cls.backward)})


def setup_context_adapter(cls: type) -> type:
    """``cls`` re-wrapped in ``setup_context`` style: forward has no ctx; setup_context replays what forward saved."""
    original_forward = cls.forward
    pending: list[_RecordingCtx] = []  # apply calls forward then setup_context back to back, so a stack of one

    def forward(*inputs: Any) -> Any:
        rec = _RecordingCtx(inputs)
        out = original_forward(rec, *inputs)
        pending.append(rec)
        return out

    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        pending.pop().replay(ctx)

    return type(
        f"SetupContext{cls.__name__}",
        (Function,),
        {"forward": staticmethod(forward), "setup_context": staticmethod(setup_context), "backward": staticmethod(cls.backward)},
    )


class _Namespace:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


def adapted_functions(functions: Any, style: str) -> Any:
    """Linear, ReLU and CrossEntropy of ``functions`` wrapped in ``style`` ("classic" or "setup_context")."""
    adapter = {"classic": classic_adapter, "setup_context": setup_context_adapter}[style]
    return _Namespace(**{name: adapter(getattr(functions, name)) for name in REQUIRED_FUNCTIONS})


# ---------------------------------------------------------------------------------------------------------
# The floor. The same three layers as custom Functions whose forward and backward call torch's *own* kernels
# (the ones F.linear, F.relu and F.cross_entropy use, forward and backward). Same kernels as the built-in
# model, so a step of this model over a built-in step is what wrapping six layers in Python Functions costs
# by itself: no hand-written math can make the reference faster than this floor.
# ---------------------------------------------------------------------------------------------------------


class _KernelLinear(Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        needs_x, needs_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if needs_w else None, weight if needs_x else None)
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # AddmmBackward's kernels: mm for x and W, a sum over the batch for b
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        return (grad.mm(weight) if needs_x else None, grad.t().mm(x) if needs_w else None,
                grad.sum(0) if needs_b else None)


class _KernelReLU(Function):
    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        out = F.relu(z)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        return torch.ops.aten.threshold_backward(grad, out, 0)  # ReluBackward's one fused kernel


class _KernelCrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_probs = torch.log_softmax(logits, 1)
        loss, total_weight = torch.ops.aten.nll_loss_forward(log_probs, target, None, 1, -100)  # 1 = mean
        ctx.save_for_backward(log_probs, target, total_weight)
        return loss

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        log_probs, target, total_weight = ctx.saved_tensors
        grad_lp = torch.ops.aten.nll_loss_backward(grad, log_probs, target, None, 1, -100, total_weight)
        return torch.ops.aten._log_softmax_backward_data(grad_lp, log_probs, 1, log_probs.dtype), None


KERNEL_FUNCTIONS = _Namespace(Linear=_KernelLinear, ReLU=_KernelReLU, CrossEntropy=_KernelCrossEntropy)
"""Linear, ReLU and CrossEntropy as custom Functions around torch's own kernels: the floor model."""


TUNED_FUNCTIONS: Any = tuned
"""Linear, ReLU and CrossEntropy written for speed (course_nn/bench/tuned.py): what step_time_ratio measures."""
