"""SquaredError's backward divides by the batch size N instead of the number of elements M."""

from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = grad_output * 2 * (pred - target) / pred.shape[0]  # mistake: pred.numel()
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
