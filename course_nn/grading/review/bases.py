"""The gate's rules for a class statement's bases: what a class may derive from, and that an own base is
named so the family it joins is the one its methods are checked in."""

from __future__ import annotations

import ast

from course_nn.grading.review import messages as M
from course_nn.grading.review import values as V
from course_nn.grading.review.values import CLASSREF

# Where a listed base's `__new__` may be defined: code that returns a new instance of the class it is given. Any
# other may hand back something else (`np.float64.__new__` returns the array it is given, `torch.no_grad`'s the
# function), which the gate would type as an own instance, on which the names the file defines are readable.
CONSTRUCTING_MODULES = frozenset({"collections", "functools", "itertools", "_random", "typing"})
# Python's built-in types whose `__new__`, given a subclass, always makes an instance of it (exceptions too). Not
# every built-in does: `reversed.__new__(cls, seq)` returns `seq.__reversed__()`, a tensor's flip (the eighteenth
# red-team pass); `type`, `super` and the descriptors are refused as bases anyway.
CONSTRUCTING_BUILTINS = (object, int, float, complex, str, bytes, tuple, frozenset, list, dict, set, enumerate,
                         filter, map, zip)


def constructs(base: type) -> bool:
    """Whether calling a class derived from listed ``base`` surely makes an instance of that class (the
    seventeenth red-team pass: `class _B(np.float64)`, `_B(np.zeros(1))` is an ndarray typed as `_B`'s)."""
    import torch

    owner = next((k for k in base.__mro__ if "__new__" in vars(k)), object)
    return (type(base).__call__ is type.__call__ or issubclass(base, torch.autograd.Function)) and (
        owner in CONSTRUCTING_BUILTINS or owner.__module__ in CONSTRUCTING_MODULES
        or owner.__module__ == "builtins" and issubclass(owner, BaseException)
        or owner in (torch.Generator, torch._C._FunctionBase))


class BaseRules:
    # provided by the Gate: classes, expr(), refuse(), shown()

    def base_class(self, base: ast.expr, node: ast.ClassDef) -> None:
        import typing

        import numpy
        import torch

        v = self.expr(base, CLASSREF)
        if v.kind == V.OWN_CLASS and v.obj != "mixed":
            # A subclass shares its base's family (its trusted methods, its guard) only where the base was
            # found by name (`Base`, `Outer.Inner`); one reached through an object or a parameter (`cls`)
            # would make a family of its own, unguarded, whose inherited methods could run on any object.
            if self.classes.family_of(node) not in self.classes.members(v.family):
                self.refuse(base, M.base_unnamed(self.shown(base, whole=True)))
            return
        if v.kind == V.KNOWN and v.obj is typing.NamedTuple:
            return  # (a name bound to an own class *and* something else could be an array type at run time)
        obj = v.obj if v.kind in (V.KNOWN, V.BUILTIN) else None
        if not isinstance(obj, type) or issubclass(obj, (torch.Tensor, numpy.ndarray, type)) or obj in (
                memoryview, bytearray, property, staticmethod, classmethod, super):
            self.refuse(base, M.base_class(self.shown(base, whole=True)))
        elif not constructs(obj):
            self.refuse(base, M.base_constructs(self.shown(base, whole=True)))
        elif obj is not object and not issubclass(obj, torch.nn.Module) and any(
                issubclass(b, torch.nn.Module) for b in self.classes.family(self.classes.family_of(node)).bases):
            # torch's containers hand a module out under a name from data (`ModuleDict({k: m})`, a key computed
            # to "__array_interface__", served by Module.__getattr__): a module that is also a dict (an
            # OrderedDict, a Counter) would be read as numpy's array protocol, any address and dtype (the
            # twentieth red-team pass); a Module family's listed bases are Modules
            self.refuse(base, M.base_beside_module(self.shown(base, whole=True)))
