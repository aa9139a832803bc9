"""SquaredError sums instead of averaging, in forward and (consistently) in backward: gradcheck agrees with
itself, only the forward check against mse_loss sees it."""

from torch.autograd import Function


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).sum()  # mistake: mean, not sum

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = grad_output * 2 * (pred - target)  # consistent with the wrong forward
        return (d if ctx.needs_input_grad[0] else None), (-d if ctx.needs_input_grad[1] else None)
