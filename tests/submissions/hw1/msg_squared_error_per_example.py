"""SquaredError returns one loss per example (shape (N,)) instead of one number."""

from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean(dim=1)  # mistake: no mean over the batch

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        grad = 2 * (pred - target) / pred.numel() * grad_output
        return grad, -grad
