"""Linear forgets that bias can be None: `x Wᵀ + None` raises TypeError on the bias=None cases."""

from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        return x.mm(weight.t()) + bias  # mistake: bias may be None

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output.mm(weight), grad_output.t().mm(x), grad_output.sum(0)
