# rt18 (fair): correct code whose helper classes derive from Python's own types that always make an instance of
# the class called -- an int axis, a frozenset of names, a dict of options, a zip and an enumerate with a method
# of their own, an arithmetic error of its own -- and redefines ReLU through them (`reversed`, whose `__new__`
# returns the sequence's own reversal, is refused as a base since the eighteenth red-team pass; these stay).
# Appended to the correct base: its ReLU replaces the base's, full credit.
import torch


class _Axis(int):
    def last(self) -> int:
        return int(self) - 1


class _Names(frozenset):
    def has(self, name: str) -> bool:
        return name in self


class _Options(dict):
    def floor(self) -> float:
        return self["floor"]


class _Pairs(zip):
    def first(self):
        return next(self)


class _Counted(enumerate):
    def rest(self) -> list:
        return [i for i, _ in self]


class _NegativeMask(ArithmeticError):
    pass


_OPTS = _Options(floor=0.0)
_KINDS = _Names(("ReLU",))


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        dims = _Axis(x.dim())
        if dims.last() < -1 or not _KINDS.has("ReLU"):
            raise _NegativeMask("ReLU.forward: a tensor has at least zero dimensions")
        (shape, _numel) = _Pairs([x.shape], [x.numel()]).first()
        mask = (x > _OPTS.floor()).to(x.dtype)
        ctx.save_for_backward(mask)
        assert _Counted(shape).rest() == list(range(len(shape)))
        return x * mask

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask
