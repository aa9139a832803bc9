# rt19 (fair): correct code whose Sigmoid keeps its constants in a class with a nested class, read through an
# instance, and in namedtuples (one from `collections.namedtuple`, one from `typing.NamedTuple`'s call form),
# whose fields it reads by name. Since the nineteenth red-team pass a namedtuple's fields count as any name, which
# only matters for a name bound both to a namedtuple and to an own class; this file binds each name once.
# Appended to the correct base: its Sigmoid replaces the base's, full credit.
import collections
import typing

import torch

_Halves = collections.namedtuple("_Halves", "scale shift")
_Pair = typing.NamedTuple("_Pair", [("value", object), ("weight", float)])
_HALVES = _Halves(0.5, 0.5)


class _Consts:
    class Half:
        value = 0.5


_CONSTS = _Consts()


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        pair = _Pair(torch.tanh(x * _HALVES.scale), _CONSTS.Half.value)  # sigmoid(x) = (1 + tanh(x / 2)) / 2
        y = pair.value * pair.weight + _HALVES.shift
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
