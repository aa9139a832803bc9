# rt17 (fair): correct code whose helper classes derive from Python's own value types -- a float with a name, a
# tuple of sizes, a bounded deque of recent losses, a partial with its options, an exception of its own -- and
# redefines Sigmoid through them. Calling each of these classes makes an instance of it, so the gate may type the
# result as the file's own object. Appended to the correct base: its Sigmoid replaces the base's, full credit.
import collections
import functools

import torch


class _Half(float):
    def of(self, x: torch.Tensor) -> torch.Tensor:
        return x * float(self)


class _Sizes(tuple):
    def total(self) -> int:
        return functools.reduce(lambda a, b: a * b, self, 1)


class _Recent(collections.deque):
    def last(self):
        return self[-1] if self else None


class _Clamp(functools.partial):
    pass


class _ShapeMismatch(ValueError):
    pass


_HALF = _Half(0.5)
_RECENT = _Recent(maxlen=4)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        sizes = _Sizes(x.shape)
        if sizes.total() != x.numel():
            raise _ShapeMismatch("Sigmoid.forward: the sizes do not multiply to numel")
        clamp = _Clamp(torch.clamp, min=-60.0, max=60.0)
        z = clamp(x)
        y = _HALF.of(torch.tanh(_HALF.of(z))) + 0.5  # sigmoid(z) = (1 + tanh(z / 2)) / 2
        _RECENT.append(sizes)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
