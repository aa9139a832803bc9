"""Which objects a family's rules speak for: the classes a file's own calls make share objects, and the names a
listed base hands out that no class statement of the file decides.

- ``handed_joins``: ``Other.method(self, ...)`` runs ``Other``'s method on this object, so its rules (name
  tables, nested classes) must hold for this object too: the two classes are one family (the seventeenth
  red-team pass, `_A.read(self)` with `_B`'s `self.key` bound to "__class__").
- ``serves``: a listed base that answers attribute reads from its own tables (``torch.nn.Module.__getattr__``:
  a buffer registered from outside) or stores what its callers give under names (``ParameterList``): a
  class attribute the file defines may not be what an object of the family has under that name.
"""

from __future__ import annotations

import ast
import functools

from course_nn.grading.review.source import walk


def handed_joins(tree: ast.Module, defs: list[ast.ClassDef], functions: set[int], resolver,
                 static_base) -> list[tuple[int, int]]:
    """(receiver's class, called class) for every ``X.method(first, ...)`` whose ``first`` is a method's first
    parameter (that of a static method only in a Function, ``functions`` by index) and whose ``X`` names an own
    class (by name, ``Outer.Inner``, an alias, or a classmethod's ``cls``). Only such a join makes the call
    admissible (``Classes.compatible``)."""
    index = {id(c): i for i, c in enumerate(defs)}
    receivers: dict[int, int] = {}  # id(first parameter of a method) -> its class
    cls_of: dict[int, int] = {}  # id(a classmethod's first parameter) -> its class
    for i, c in enumerate(defs):
        for fn in c.body:
            params = [*fn.args.posonlyargs, *fn.args.args] if isinstance(fn, ast.FunctionDef) else []
            names = {d.id for d in fn.decorator_list if isinstance(d, ast.Name)} if params else set()
            if params and ("staticmethod" not in names or i in functions):
                receivers[id(params[0])] = i
                if "classmethod" in names:
                    cls_of[id(params[0])] = i
    pairs = []
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and isinstance(node.args[0], ast.Name)):
            continue
        first = resolver.binding_of(node.args[0])
        if first is None or first.kind != "param" or id(first.node) not in receivers:
            continue
        base = node.func.value
        owner = resolver.binding_of(base) if isinstance(base, ast.Name) else None
        targets = static_base(base)
        if owner is not None and owner.kind == "param" and id(owner.node) in cls_of:
            targets = defs[cls_of[id(owner.node)]]  # `cls.method(self)`
        for own in targets if isinstance(targets, tuple) else (targets,):
            if id(own) in index:
                pairs.append((receivers[id(first.node)], index[id(own)]))
    return pairs


def serves(bases: list[type]) -> str:
    """"any" where a listed base stores under names its callers choose (a ``__setitem__`` calling ``setattr``:
    ``ParameterList``'s; ``ParameterDict({"Inner": x})``, no longer listed, put ``x`` over any class attribute);
    "missing" where one answers names an object lacks (``__getattr__``: ``Module.register_buffer``, on any object); else ""."""
    found = {_serves(b) for b in bases}
    return "any" if "any" in found else "missing" if "missing" in found else ""


@functools.cache
def _serves(base: type) -> str:
    mro = [k for k in base.__mro__ if k.__module__ != "builtins"]
    setitem = [vars(k)["__setitem__"] for k in mro if "__setitem__" in vars(k)]
    if any("setattr" in getattr(getattr(f, "__code__", None), "co_names", ()) for f in setitem):
        return "any"
    return "missing" if any("__getattr__" in vars(k) for k in mro) else ""


def sees(node: ast.ClassDef, attr: str, own_bases: dict[int, list[ast.ClassDef]],
         class_attrs: dict[int, set[str]], depth: int = 0) -> bool:
    """Whether objects of this class have class attribute ``attr`` from a class statement of the file (its body
    or an own base's; ``class_attrs``: the class statements that bind in their class body, not after `global`):
    then a listed base's ``__getattr__`` never answers for it, and registering it fails."""
    if attr in class_attrs.get(id(node), ()):
        return True
    return depth < 50 and any(sees(b, attr, own_bases, class_attrs, depth + 1) for b in own_bases.get(id(node), ()))
