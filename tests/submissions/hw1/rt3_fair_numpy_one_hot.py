"""Fairness: CrossEntropy whose forward builds the one-hot targets in numpy (``np.eye(C)[labels]``, the way
a numpy course writes it) and saves them; the gradient is computed in torch, (softmax - one-hot) / N.
The one-hot rows are data, not a derivative. Expected: full credit."""
import numpy as np
import torch
from torch.autograd import Function


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        if target.is_floating_point():
            y = target.detach()
        else:
            y = torch.from_numpy(np.eye(logits.shape[1])[target.numpy()]).to(logits.dtype)
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        return grad_output * (log_p.exp() - y) / log_p.shape[0], None
