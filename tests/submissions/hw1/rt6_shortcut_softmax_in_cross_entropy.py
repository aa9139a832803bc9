"""CrossEntropy's forward computed by its own built-in (hostile, the plain case): F.softmax is on
CrossEntropy's list, so it costs CrossEntropy its forward and compliance credit, and nobody else."""
import torch
import torch.nn.functional as F
from torch.autograd import Function


def _one_hot(target, logits):
    """Class indices (N,) -> one-hot rows (N, C); probability rows pass through."""
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        p = F.softmax(logits, dim=1)
        y = _one_hot(target, logits)
        ctx.save_for_backward(p, y)
        return -(y * torch.log(p)).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        p, y = ctx.saved_tensors
        return grad_output * (p - y) / p.shape[0], None
