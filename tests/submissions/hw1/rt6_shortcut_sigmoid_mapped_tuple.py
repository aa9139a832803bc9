"""Sigmoid's forward computed by another task's built-in (hostile): softmax over (z, 0) is sigmoid(z).
The helper sits in a module-level tuple and forward calls it through `map`, so the gate cannot list who
calls it (review/shortcuts.py helper_reach); the runs' records say Sigmoid's forward ran softmax."""
import torch
import torch.nn.functional as F
from torch.autograd import Function


def _pair_softmax(z):
    return F.softmax(torch.stack([z, torch.zeros_like(z)]), dim=0)[0]


_SQUASHES = (_pair_softmax,)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        (out,) = map(lambda f: f(z), _SQUASHES)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
