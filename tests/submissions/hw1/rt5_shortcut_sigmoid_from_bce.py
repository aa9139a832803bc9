"""Shortcut (hostile): Sigmoid's forward is torch's own log-sigmoid, taken from CrossEntropy's list of built-ins:
binary_cross_entropy_with_logits(z, 1) = -log sigmoid(z), called from a module-level helper. The gate charges
the line to CrossEntropy (whose built-in it is) and the runtime recorder matches only Sigmoid's own names
(sigmoid, expit, logsigmoid, silu), so Sigmoid keeps its forward credit; the honest CrossEntropy loses all."""
import torch
import torch.nn.functional as F
from torch.autograd import Function


def _log_sigmoid(z):
    return -F.binary_cross_entropy_with_logits(z, torch.ones_like(z), reduction="none")


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = torch.exp(_log_sigmoid(z))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
