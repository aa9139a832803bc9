"""What the gate knows about an expression's value.

The gate never runs the file, so most values are ``UNKNOWN``: any object the file could hold.
Only a few kinds are known exactly, and each has its own rules:

- ``MODULE``: a listed module, bound only by its import. Used only to reach a listed name.
- ``KNOWN``: an object the policy lists (``torch.exp``, ``torch.nn.Module``), reached through a
  module. A value like any other (it may be passed and stored), except a class on which a listed
  attribute is a Python function (``Index.methods``): passed on, the gate could no longer tell
  ``[FunctionCtx][0].set_materialize_grads(obj, v)`` from a method call, so it is never a bare value.
- ``BUILTIN``: a listed Python built-in, where no binding of the file can shadow it.
- ``OWN_CLASS``: a class this file defines (its family: the file's classes related by inheritance).
- ``TRUSTED``: the ``self``/``ctx`` of a method of the file's own classes, never rebound — the only
  receivers on which the names the file assigns may be read.
- ``INSTANCE``: a name bound only to calls of one own class (``shape = Batch(n, d)``): read like a
  trusted receiver, never assigned to from outside.
- ``SUPER``: ``super()``, only as ``super().method(...)``.
- ``REFUSED``: the value of something already refused (its attributes are not reported again).
"""

from __future__ import annotations

from dataclasses import dataclass

MODULE, KNOWN, BUILTIN, OWN_CLASS, TRUSTED, INSTANCE, SUPER, METHOD, UNKNOWN, REFUSED = (
    "module", "known", "builtin", "own class", "trusted", "instance", "super", "method", "unknown", "refused")

# How an expression is used: what its value may be.
VALUE, CALLEE, BASE, CLASSREF = "value", "callee", "base", "classref"
# A bare function decorator: called with the function, so a listed class may be one (``@torch.no_grad``);
# every other rule reads it as a value (an own class's, a module's, ``@type``'s).
DECORATOR = "decorator"


@dataclass(frozen=True)
class Value:
    kind: str
    name: str = ""  # module path, qualified name, built-in or class name
    obj: object = None  # KNOWN: the object; OWN_CLASS / TRUSTED: the family id; METHOD: the def node
    family: int = -1

    def __hash__(self) -> int:
        return hash((self.kind, self.name, id(self.obj), self.family))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Value) and (self.kind, self.name, self.family) ==
                (other.kind, other.name, other.family) and self.obj is other.obj)


UNKNOWN_VALUE = Value(UNKNOWN)
# What a refused name evaluates to: anything, but the line is refused already, so the rest of its
# attribute chain is not reported again.
REFUSED_VALUE = Value(REFUSED)


def module(path: str) -> Value:
    return Value(MODULE, path)


def known(qualified: str, obj: object) -> Value:
    return Value(KNOWN, qualified, obj)


def join(values: list[Value]) -> Value:
    """The value of a name bound several ways: exact only when every binding agrees."""
    if values and all(v == values[0] for v in values):
        return values[0]
    return UNKNOWN_VALUE
