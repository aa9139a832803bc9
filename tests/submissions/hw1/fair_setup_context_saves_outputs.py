"""Fairness: the setup_context style (forward without ctx), outputs saved where the derivative is
written with the output, ctx.needs_input_grad honoured. Expected: full credit, no tips."""

import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class QuadraticForm(Function):
    @staticmethod
    def forward(v, A):
        return v @ A @ v

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        grad_v = grad_output * (A @ v + A.t() @ v) if ctx.needs_input_grad[0] else None
        grad_A = grad_output * torch.outer(v, v) if ctx.needs_input_grad[1] else None
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(z):
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (g,) = ctx.saved_tensors
        return grad_output * g * (1 - g)


class ReLU(Function):
    @staticmethod
    def forward(z):
        return z.clamp(min=0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (g,) = ctx.saved_tensors
        return grad_output * (g > 0)


class Linear(Function):
    @staticmethod
    def forward(x, weight, bias=None):
        y = x.mm(weight.t())
        return y if bias is None else y + bias

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return (grad_output.mm(weight) if need_x else None,
                grad_output.t().mm(x) if need_w else None,
                grad_output.sum(dim=0) if need_b else None)


class SquaredError(Function):
    @staticmethod
    def forward(pred, target):
        return ((pred - target) ** 2).mean()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0] - inputs[1])

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        grad = grad_output * 2 * diff / diff.numel()
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(logits, target):
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        if target.is_floating_point():
            return -(target * log_p).sum() / logits.shape[0]
        return -log_p.gather(1, target.unsqueeze(1)).sum() / logits.shape[0]

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, target = inputs
        ctx.save_for_backward(logits, target)

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        p = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
        if target.is_floating_point():
            y = target
            grad = p * y.sum(dim=1, keepdim=True) - y
        else:
            grad = p - torch.nn.functional.one_hot(target, logits.shape[1]).to(p.dtype)
        return grad_output * grad / logits.shape[0], None
