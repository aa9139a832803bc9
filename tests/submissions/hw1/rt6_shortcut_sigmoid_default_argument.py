"""Sigmoid's forward computed by another task's built-in (hostile): softmax over (z, 0) is sigmoid(z).
The helper reaches forward as a default argument, so the gate cannot list its callers
(review/shortcuts.py helper_reach) and falls back to charging each task its own built-ins: softmax is
CrossEntropy's, not Sigmoid's, and the child's aten recorder charges a task only its own built-ins."""
import torch
import torch.nn.functional as F
from torch.autograd import Function


def _pair_softmax(z):
    return F.softmax(torch.stack([z, torch.zeros_like(z)]), dim=0)[0]


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z, _squash=_pair_softmax):
        out = _squash(z)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
