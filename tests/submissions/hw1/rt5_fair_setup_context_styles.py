"""Fair: correct analytic backwards in styles the PyTorch docs show. Sigmoid: forward without ctx and a
`setup_context` that saves the output; backward under `@once_differentiable`. Linear:
`set_materialize_grads(False)` (grad_output may be None) and a backward that loops over the rows of the
batch for the weight gradient. CrossEntropy: forward without ctx (a row-wise max shift),
`setup_context` saving the inputs, backward recomputing the softmax and one-hot rows by indexed assignment. QuadraticForm: `needs_input_grad` decides what is computed."""
import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class Sigmoid(Function):
    @staticmethod
    def forward(z):
        return torch.where(z >= 0, 1 / (1 + torch.exp(-z.abs())), torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, weight)
        ctx.with_bias = bias is not None
        out = x.matmul(weight.t())
        return out + bias if bias is not None else out

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output is None:
            return None, None, None
        x, weight = ctx.saved_tensors
        gx = grad_output.matmul(weight) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            gw = torch.zeros_like(weight)
            for g_row, x_row in zip(grad_output.reshape(-1, weight.shape[0]), x.reshape(-1, weight.shape[1])):
                gw += torch.outer(g_row, x_row)
        gb = None
        if ctx.with_bias and ctx.needs_input_grad[2]:
            gb = grad_output.reshape(-1, weight.shape[0]).sum(dim=0)
        return gx, gw, gb


class CrossEntropy(Function):
    @staticmethod
    def forward(logits, target):
        shifted = logits - logits.max(dim=1, keepdim=True).values
        log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        if target.is_floating_point():
            y = target
        else:
            y = torch.zeros_like(logits)
            y[torch.arange(logits.shape[0]), target.long()] = 1.0
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, target = inputs
        ctx.save_for_backward(logits, target)

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        p = (logits - logits.logsumexp(dim=1, keepdim=True)).exp()
        if target.is_floating_point():
            y = target
        else:
            y = torch.zeros_like(p)
            y[torch.arange(p.shape[0]), target.long()] = 1.0
        return grad_output * (p - y) / p.shape[0], None


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v @ A @ v

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        gv = grad_output * (A + A.t()) @ v if ctx.needs_input_grad[0] else None
        gA = grad_output * torch.outer(v, v) if ctx.needs_input_grad[1] else None
        return gv, gA
