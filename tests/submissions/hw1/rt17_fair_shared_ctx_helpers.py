# rt17 (fair): correct code that shares work between Functions by handing its own ctx to another Function's
# static methods (`_Logistic.forward(ctx, z)`, `_Keep.stash(ctx, ...)`), keeps plain values on ctx with `setattr`
# over a written-out list of names and reads one back through a name table, and mixes the two forward styles:
# `_Keep` uses setup_context, while Sigmoid and ReLU take ctx in forward. Appended to the correct base: Sigmoid and
# ReLU replace the base's, full credit.
import torch


class _Logistic(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.which = "scale"
        ctx.scale = 1.0
        out = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)

    @staticmethod
    def local(ctx):
        return getattr(ctx, ctx.which)


class _Keep(torch.autograd.Function):
    @staticmethod
    def forward(z):
        return z.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):
        _Keep.stash(ctx, output)

    @staticmethod
    def stash(ctx, out):
        for name in ("positive", "negative"):
            setattr(ctx, name, None)
        ctx.save_for_backward(out)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return _Logistic.forward(ctx, z)  # the same ctx: _Logistic's rules hold for it

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * _Logistic.local(ctx) * out * (1 - out)


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        out = torch.clamp(z, min=0)
        _Keep.stash(ctx, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out > 0)
