# rt18 (fair): correct code whose Sigmoid goes through a helper torch.nn.Module of its own, which keeps its
# constants in a nested class read through `self` and through an instance, and an offset in a registered buffer.
# Module's own instance tables (`_forward_hooks`, `_buffers`, ...) are never typed as a nested class since the
# eighteenth red-team pass; a nested class of any other name still is. Appended to the correct base: its Sigmoid
# replaces the base's, full credit.
import torch


class _Halver(torch.nn.Module):
    class Cfg:
        half = 0.5

    def __init__(self):
        super().__init__()
        self.register_buffer("offset", torch.tensor(0.5, dtype=torch.float64))

    def forward(self, t):
        return t * self.Cfg.half + self.offset.to(t.dtype)


_HALVER = _Halver()


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = _HALVER(torch.tanh(x * _HALVER.Cfg.half))  # sigmoid(x) = (1 + tanh(x / 2)) / 2
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
