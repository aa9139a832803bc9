"""A mistake in one Function (robustness): CrossEntropy's forward returns its loss on the `meta` device
(shape and dtype, no values). Only CrossEntropy is wrong; every other Function is the correct base's."""
from torch.autograd import Function


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        return logits.to("meta").sum()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None
