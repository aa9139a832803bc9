"""Linear uses the weight as (in, out), y = x @ W + b, instead of F.linear's (out, in) layout."""

from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x @ weight  # mistake: weight is (out, in)
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_b = grad_output.sum(0) if ctx.needs_input_grad[2] else None
        return grad_output @ weight.t(), x.t() @ grad_output, grad_b
