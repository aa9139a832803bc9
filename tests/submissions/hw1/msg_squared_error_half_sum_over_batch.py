"""SquaredError uses another convention, J = 1/(2N) · Σ (pred − target)², and its matching backward.

It equals the mean over all elements only when each example has 2 columns, so some cases pass and
others fail by a factor D/2: the hint must be the same on every shape."""

from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).sum() / (2 * pred.shape[0])  # mistake: not the mean over M elements

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        grad = grad_output * (pred - target) / pred.shape[0]
        return grad, -grad
