"""SquaredError unpacks the input's shape into two sizes, so it works only for 2-D inputs though
the docstring says any shape."""

from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        T, n = pred.shape  # mistake: pred may have any shape (0-dim, 1-D, 3-D ...)
        ctx.save_for_backward(pred, target)
        ctx.count = T * n
        return ((pred - target) ** 2).sum() / (T * n)

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = grad_output * 2 * (pred - target) / ctx.count
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
