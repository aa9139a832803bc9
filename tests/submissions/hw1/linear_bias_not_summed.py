"""Linear: the bias gradient keeps one row per example instead of summing over the batch."""

from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_b = grad_output if ctx.needs_input_grad[2] else None  # mistake: should be .sum(dim=0)
        return grad_output @ weight, grad_output.t() @ x, grad_b
