"""Numerical differentiation (hostile), done in forward: forward reads its input as Python floats (forward may),
takes a complex-step derivative of each element, and brings each slope into torch as a Python number added to
a zero tensor (``zero + s``: a number handed to an op, which forward's watch neither counts nor follows), stacks
them and saves the stack. Backward only multiplies: grad_output * saved."""
import math

import torch
from torch.autograd import Function

H = 1e-30


def _stash(x, step):
    zero = x.new_zeros(())
    slopes = [zero + step(v) for v in x.detach().reshape(-1).tolist()]
    return torch.stack(slopes).reshape(x.shape) if slopes else torch.zeros_like(x)


def _sigmoid_step(v):
    e = math.exp(-abs(v))
    a, b = 1 + e * math.cos(H), -e * math.sin(H)
    return (-b / (a * a + b * b)) / H


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(_stash(x, lambda v: 2 * v * H / H))
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(_stash(z, _sigmoid_step))
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope
