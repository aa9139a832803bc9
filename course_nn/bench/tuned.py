"""The tuned variant of the hw1 reference: same math as solutions/, written for speed and memory.

``course-nn bench`` races this against torch's built-ins (``step_time_ratio``, ``saved_bytes_ratio``) next to
the floor in :mod:`course_nn.bench.models`; the teaching reference in ``solutions/hw1_autograd/functions.py``
is measured too (``teaching_*``). Students read the teaching reference: it multiplies by a mask and
subtracts a one-hot matrix as the lecture does. The tricks below are kept out of it because each one
needs a paragraph of explanation, and two use in-place ops the handout forbids on inputs (here they
only touch tensors the Function itself just created). docs/benchmarks.md says what each one saves.
"""

from __future__ import annotations

import torch
from torch.autograd import Function


class Linear(Function):
    """y = x Wᵀ + b; saves only what backward uses and fuses the bias add (``addmm``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        # dJ/dx needs only W and dJ/dW only x: the first layer's x (the data) needs no gradient, so W1 is
        # not kept for nothing, as torch's own addmm does
        needs_x, needs_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if needs_w else None, weight if needs_x else None)
        if bias is None:
            return x.mm(weight.t())
        return torch.addmm(bias, x, weight.t())  # one fused kernel for x Wᵀ + b

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad  # needs_b is False when bias is None
        grad_x = grad_output.mm(weight) if needs_x else None
        grad_w = grad_output.t().mm(x) if needs_w else None
        grad_b = grad_output.sum(dim=0) if needs_b else None
        return grad_x, grad_w, grad_b


class ReLU(Function):
    """max(0, z); the backward mask comes from ``sign`` (a float kernel) instead of a bool comparison."""

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        out = z.clamp_min(0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        # out >= 0, so sign(out) is the mask [out > 0] (0 at exactly 0) without a bool tensor and a
        # mixed-dtype multiply; sign() returns a fresh tensor, so mul_ changes no input
        return out.sign().mul_(grad_output)


class CrossEntropy(Function):
    """Softmax cross-entropy; saves the (N, 1) class index and subtracts the one-hot with a scalar scatter."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        n = logits.shape[0]
        if target.dtype in (torch.int64, torch.int32, torch.uint8):
            target = target.long().unsqueeze(1)  # (N, 1) column of class indices: gather here, scatter in backward
            loss = log_probs.gather(1, target).sum() / -n
        else:
            loss = (target * log_probs).sum() / -n
        ctx.save_for_backward(log_probs, target)
        return loss

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, None]:
        if not ctx.needs_input_grad[0]:
            return None, None
        log_probs, target = ctx.saved_tensors
        n = log_probs.shape[0]
        grad = log_probs.exp()  # softmax(z): a fresh tensor, so the in-place ops below touch no input
        if target.is_floating_point():
            grad = grad * target.sum(dim=1, keepdim=True) - target
        else:
            grad.scatter_(1, target, -1.0, reduce="add")  # minus one-hot without materialising it
        return grad.mul_(grad_output / n), None
