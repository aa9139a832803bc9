"""Fair: correct hw1 Functions written with identities and statements the gate must accept, and credit
kept in full. Sigmoid through ``logaddexp`` (1 / (1 + e^-z) = exp(-log(1 + e^-z))), ReLU as (z + |z|) / 2
with a Heaviside mask, Linear through ``addmm`` and ``einsum``, SquaredError through ``vector_norm``,
gradients chosen with ``match`` on ``ctx.needs_input_grad``, a ``vjp`` in place of ``backward`` and
``@once_differentiable`` on the rest."""
import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def vjp(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return torch.addcmul(torch.zeros_like(s), grad_output, s * (1 - s))


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return (z + z.abs()) / 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * torch.heaviside(z, torch.zeros((), dtype=z.dtype, device=z.device))


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.bias = bias is not None
        if bias is None:
            return torch.einsum("ni,oi->no", x, weight)
        return torch.addmm(bias, x, weight.t())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grads = [None, None, None]
        for i, need in enumerate(ctx.needs_input_grad):
            match (i, need):
                case (0, True):
                    grads[0] = torch.einsum("no,oi->ni", grad_output, weight)
                case (1, True):
                    grads[1] = torch.einsum("no,ni->oi", grad_output, x)
                case (2, True) if ctx.bias:
                    grads[2] = grad_output.sum(0)
                case _:
                    pass
        return tuple(grads)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return torch.linalg.vector_norm(pred - target) ** 2 / pred.numel()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = (pred - target) * (2 * grad_output / pred.numel())
        match ctx.needs_input_grad:
            case (True, True):
                return d, -d
            case (True, _):
                return d, None
            case (_, True):
                return None, -d
            case _:
                return None, None
