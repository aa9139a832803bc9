"""Hostile part, appended to the untouched stub: every Function "follows the rules" by doing nothing —
forward returns zeros of a plausible shape, backward returns None for every input. No autograd, no
shortcut, no numerical derivative: the compliance check found nothing to object to, so each task's
"backward is hand-written" share (5%) was earned by code that computes nothing."""

from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, x, A):
        return x * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None, None


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        return z * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        return z * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        return x * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None, None, None


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        return pred.sum() * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None, None


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, labels):
        return logits.sum() * 0

    @staticmethod
    def backward(ctx, grad_output):
        return None, None
