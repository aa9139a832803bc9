"""Sigmoid and CrossEntropy (fair): the formulas live in a module-level table of helpers that forward
takes as a default argument, so the gate cannot list who calls them. They compute from primitives
(exp, logsumexp), so no task pays for them."""
import torch
from torch.autograd import Function


def _one_hot(target, logits):
    """Class indices (N,) -> one-hot rows (N, C); probability rows pass through."""
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


def _logistic(z):
    return 1 / (1 + torch.exp(-z))


def _log_probs(logits):
    return logits - torch.logsumexp(logits, dim=1, keepdim=True)


FORMULAS = {"sigmoid": _logistic, "log_probs": _log_probs}


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z, formulas=FORMULAS):
        out = formulas["sigmoid"](z)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target, formulas=FORMULAS):
        log_p = formulas["log_probs"](logits)
        y = _one_hot(target, logits)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        return grad_output * (log_p.exp() - y) / log_p.shape[0], None
