"""Linear's backward never returns; CrossEntropy checks that the fresh child the grader starts after the
hang was not handed the grader's references (it would find them among this process's objects)."""

import gc

import torch
from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        while True:  # mistake: an endless loop
            pass


def _grader_references_leaked():
    return any(isinstance(o, dict) and "_ref_out" in o for o in gc.get_objects())


class CrossEntropy(Function):
    leaked = None  # scanned once per process

    @staticmethod
    def forward(ctx, logits, target):
        if CrossEntropy.leaked is None:
            CrossEntropy.leaked = _grader_references_leaked()
        if CrossEntropy.leaked:
            raise RuntimeError("the grader leaked its references")
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        if not target.is_floating_point():
            target = torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)
        ctx.save_for_backward(log_p, target)
        return -(target * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        return grad_output * (log_p.exp() - y) / log_p.shape[0], None
