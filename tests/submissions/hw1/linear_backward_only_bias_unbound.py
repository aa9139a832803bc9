"""Linear's backward defines grad_x and grad_w only in a branch that skips when neither x nor the
weight needs a gradient: with only the bias needing one, the return raises UnboundLocalError."""

from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:  # mistake: grad_x, grad_w unbound otherwise
            grad_x = grad_output @ weight if ctx.needs_input_grad[0] else None
            grad_w = grad_output.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_output.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
