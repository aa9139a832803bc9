"""Linear returns one weight gradient per example, shape (N, out, in), instead of their sum."""

from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x.mm(weight.t())
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_w = grad_output.unsqueeze(2) * x.unsqueeze(1) if need_w else None  # mistake: not summed over n
        return (grad_output.mm(weight) if need_x else None, grad_w,
                grad_output.sum(0) if need_b else None)
