"""A small schema language for what a child sends back, checked before any scoring reads it.

The child runs student code, so each of its results is data from an adversary that may have
rewritten the probes: the parent accepts a result only when every field has the type, size and
shape the probe writes. A schema is a tree of these nodes; ``why(schema, value)`` says what is
wrong with ``value`` in one phrase (naming the field), or returns None when it conforms.

    DIRECT = Record({"out": Maybe(Tensor()), "n_grads": Int(-1, 64)}, optional={"ops": Strings()})

Types are checked exactly (``type(x) is int``, never ``isinstance``), so a bool is not an int and
a subclass of a plain type never passes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field


class Schema:
    """One node of a schema: ``check(value, where)`` returns what is wrong, or None."""

    def check(self, value: object, where: str) -> str | None:
        raise NotImplementedError


def why(schema: Schema, value: object, where: str = "result") -> str | None:
    """What is wrong with ``value`` under ``schema`` (one phrase naming the field), or None."""
    return schema.check(value, where)


def _tensor_type():
    """torch.Tensor, imported on first use: the engine imports this module before it starts the child,
    and its own torch import is meant to overlap the child's."""
    import torch

    return torch.Tensor


def _kind(value: object) -> str:
    torch = sys.modules.get("torch")  # a value can only be a tensor once torch is imported
    return "a tensor" if torch is not None and isinstance(value, torch.Tensor) else f"a {type(value).__name__}"


@dataclass(frozen=True)
class Any(Schema):
    """Plain data of any shape: what the generic frame check (cases.accept) already allows."""

    def check(self, value, where):
        return None


@dataclass(frozen=True)
class Tensor(Schema):
    """A plain torch.Tensor; ``dims`` (exact number of dimensions), ``floating``, ``max_numel``."""

    dims: int | None = None
    floating: bool | None = None
    max_numel: int = 1 << 22

    def check(self, value, where):
        if type(value) is not _tensor_type():
            return f"{where}: {_kind(value)} where a tensor belongs"
        if value.is_complex():
            return f"{where}: a complex tensor"
        if self.dims is not None and value.dim() != self.dims:
            return f"{where}: a tensor with {value.dim()} dimensions where {self.dims} belong"
        if self.floating is not None and value.is_floating_point() != self.floating:
            return f"{where}: a tensor of dtype {value.dtype}"
        if value.numel() > self.max_numel:
            return f"{where}: a tensor of {value.numel()} elements"
        return None


@dataclass(frozen=True)
class Str(Schema):
    max_len: int = 20_000

    def check(self, value, where):
        if type(value) is not str:
            return f"{where}: {_kind(value)} where a string belongs"
        return f"{where}: a string of {len(value)} characters" if len(value) > self.max_len else None


@dataclass(frozen=True)
class Int(Schema):
    lo: int = -(1 << 62)
    hi: int = 1 << 62

    def check(self, value, where):
        if type(value) is not int:
            return f"{where}: {_kind(value)} where an integer belongs"
        return None if self.lo <= value <= self.hi else f"{where}: {value} is outside [{self.lo}, {self.hi}]"


@dataclass(frozen=True)
class Bool(Schema):
    def check(self, value, where):
        return None if type(value) is bool else f"{where}: {_kind(value)} where True or False belongs"


@dataclass(frozen=True)
class Float(Schema):
    """A Python float (an int is accepted too: a probe may return 0 for 0.0)."""

    def check(self, value, where):
        return None if type(value) in (float, int) else f"{where}: {_kind(value)} where a number belongs"


@dataclass(frozen=True)
class Maybe(Schema):
    """None, or what ``inner`` accepts."""

    inner: Schema

    def check(self, value, where):
        return None if value is None else self.inner.check(value, where)


@dataclass(frozen=True)
class OneOf(Schema):
    """What any of ``options`` accepts (the first option's complaint otherwise)."""

    options: tuple[Schema, ...]

    def check(self, value, where):
        first = None
        for option in self.options:
            problem = option.check(value, where)
            if problem is None:
                return None
            first = first or problem
        return first


@dataclass(frozen=True)
class Items(Schema):
    """A list or tuple of ``item``; ``length`` exact, else at most ``max_len`` items."""

    item: Schema
    max_len: int = 64
    length: int | None = None

    def check(self, value, where):
        if type(value) not in (list, tuple):
            return f"{where}: {_kind(value)} where a list belongs"
        if self.length is not None and len(value) != self.length:
            return f"{where}: {len(value)} items where {self.length} belong"
        if len(value) > self.max_len:
            return f"{where}: {len(value)} items (at most {self.max_len})"
        check = self.item.check
        for i, v in enumerate(value):  # the item's place is spelt out only for the complaint
            if check(v, where) is not None:
                return check(v, f"{where}[{i}]")
        return None


def Strings(max_len: int = 256) -> Items:  # noqa: N802 - reads like the other node types
    """A list of short strings (op names, attribute names)."""
    return Items(Str(200), max_len)


@dataclass(frozen=True)
class Record(Schema):
    """A dict with string keys: ``required`` fields, ``optional`` ones, nothing else (unless ``open``:
    then other fields are plain data nobody reads unchecked); ``rule`` then checks how the fields fit
    together (a list as long as a count, ...)."""

    required: dict[str, Schema] = field(default_factory=dict)
    optional: dict[str, Schema] = field(default_factory=dict)
    rule: Callable[[dict], str | None] | None = None
    open: bool = False

    def check(self, value, where):
        if type(value) is not dict:
            return f"{where}: {_kind(value)} where a table belongs"
        for key in self.required:
            if key not in value:
                return f"{where}: no field {key!r}"
        for key, item in value.items():
            schema = self.required.get(key) or self.optional.get(key) if type(key) is str else None
            if schema is None:
                if self.open:
                    continue
                return f"{where}: an unexpected field {str(key)[:40]!r}"
            if schema.check(item, where) is not None:  # the field's place is spelt out only for the complaint
                return schema.check(item, f"{where}.{key}")
        return self.rule(value) if self.rule is not None else None
