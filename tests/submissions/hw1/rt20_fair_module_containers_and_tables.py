# rt20 (fair): correct code that keeps helpers in torch's module containers and in Python's own types, each on its
# own: a Module holding a dict of constants in an attribute, a ModuleDict under literal and computed (letter-first)
# keys, a ParameterList, and a dict subclass of its own that is no Module. Sigmoid reads its constant from them.
# Appended to the correct base: Sigmoid is replaced by an equal one, full credit.
import torch
from torch.autograd import Function


class _Table(dict):
    def one(self):
        return self["one"]


class _Constants(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.table = {"one": 1.0}
        self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(1))])


_CONSTANTS = _Constants()
_TABLE = _Table(one=1.0)
_PARTS = torch.nn.ModuleDict({"constants": _CONSTANTS})
_PARTS.update({"layer_" + str(d): torch.nn.Identity() for d in range(2)})


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        one = _TABLE.one() * _CONSTANTS.table["one"] * len(_PARTS) / len(_PARTS)
        s = one / (one + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
