# rt20 (fair): correct code whose Sigmoid accepts a numpy array as well as a tensor, naming `numpy.ndarray` where a
# class is named (a `from` import, an annotation, `isinstance`, a `match` class pattern, a `type(x) is` comparison)
# and making arrays with `numpy.asarray`. Since the twentieth red-team pass `numpy.ndarray(...)` is never called
# (its constructor lays an array over any buffer); naming the class stays free.
# Appended to the correct base: its Sigmoid replaces the base's, full credit.
import numpy
from numpy import ndarray

import torch


def _as_tensor(x: torch.Tensor | ndarray) -> torch.Tensor:
    match x:
        case ndarray(shape=()):
            return torch.as_tensor(numpy.asarray(x, dtype=numpy.float64).reshape(1)).reshape(())
        case numpy.ndarray():
            return torch.from_numpy(numpy.asarray(x))
    if isinstance(x, (numpy.ndarray, list)) or type(x) is ndarray:
        return torch.as_tensor(x)
    return x


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-_as_tensor(x)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
