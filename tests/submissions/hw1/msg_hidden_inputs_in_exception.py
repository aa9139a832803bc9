"""Sigmoid raises on every call with the input values in the message, and Square raises its own
exception class, whose name could carry data: on hidden cases neither may reach the student."""

from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        raise ValueError("SECRET-VALUES " + " ".join(f"{v:.17g}" for v in z.reshape(-1).tolist()))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Leak12345(Exception):
    pass


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        raise Leak12345("SECRET-SHAPE " + str(tuple(x.shape)))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
