"""Correct hw1 Functions (fair) in unusual but legitimate styles: sigmoid through tanh
(0.5 * (1 + tanh(z / 2))) with its slope (1 - tanh²) / 4; cross-entropy through a hand-written
log-softmax whose backward is softmax - y from exp(log_p); squared error averaged row by row then over
rows; Linear with einsum; every backward computed in float64 and cast back to the input's dtype."""
import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        t = torch.tanh(z / 2)
        ctx.save_for_backward(t)
        return 0.5 * (1 + t)

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        t64 = t.to(torch.float64)
        return (grad_output.to(torch.float64) * 0.25 * (1 - t64 * t64)).to(t.dtype)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = torch.einsum("ni,oi->no", x, weight)
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        g = grad_output
        grad_x = torch.einsum("no,oi->ni", g, weight) if ctx.needs_input_grad[0] else None
        grad_w = torch.einsum("no,ni->oi", g, x) if ctx.needs_input_grad[1] else None
        grad_b = torch.einsum("no->o", g) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        diff = (pred - target).reshape(pred.shape[0] if pred.dim() else 1, -1)
        return (diff * diff).mean(dim=1).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        p64, t64 = pred.to(torch.float64), target.to(torch.float64)
        d = (grad_output.to(torch.float64) * (p64 - t64) * (2.0 / pred.numel())).to(pred.dtype)
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)


def _one_hot(target, logits):
    if target.is_floating_point():
        return target
    return torch.zeros_like(logits).scatter(1, target.long().unsqueeze(1), 1.0)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        y = _one_hot(target, logits)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum(dim=1).mean()

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        lp64 = log_p.to(torch.float64)
        grad = (lp64.exp() - y.to(torch.float64)) / log_p.shape[0]
        return (grad_output.to(torch.float64) * grad).to(log_p.dtype), None
