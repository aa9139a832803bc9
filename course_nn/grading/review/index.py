"""The registry's allow-list, resolved once per policy against the modules installed in the parent.

Every listed qualified name is looked up for real (``torch.nn.functional.linear`` -> that function
object). A module attribute is then admitted when it is a listed module or the very same object as
a listed name, whatever path reached it (``torch.nn.parameter.Parameter`` is
``torch.nn.Parameter``). Names a release does not have are simply absent: nothing is admitted by
pattern, so an upgrade adds nothing by itself.
"""

from __future__ import annotations

import builtins
import dis
import functools
import importlib
import inspect
import re
import types
from dataclasses import dataclass

from course_nn.registry.policy import Policy

# Interpreter introspection: frames, code, generators, coroutines, async generators, tracebacks.
# Refused as attribute names however they are reached, whatever a file declares.
INTROSPECTION = re.compile(r"^(f|gi|cr|ag|tb|co)_")


def introspective(name: str) -> bool:
    """Frame/code/generator/traceback attribute names and every double-underscore name."""
    return bool(INTROSPECTION.match(name)) or name.startswith("__")


EXCEPTIONS = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException))


def _constant(value: object) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


@dataclass(frozen=True)
class Member:
    """What ``module.name`` is: a module the policy lists, or an object it admits."""

    qualified: str
    obj: object
    module: bool


class Index:
    """The resolved allow-list of one policy."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.modules: dict[str, types.ModuleType] = {}
        for path in policy.imports:
            try:
                self.modules[path] = importlib.import_module(path)
            except ImportError:
                continue  # not installed here: importing it is refused like any unlisted module
        self.objects: dict[int, str] = {}  # id(object) -> the qualified name the policy lists it under
        self.keep: list[object] = []  # keeps every listed object alive, so ids stay unique
        for qualified in sorted(policy.qualified_names()):
            module, _, name = qualified.rpartition(".")
            if module in self.modules and hasattr(self.modules[module], name):
                obj = getattr(self.modules[module], name)
                if _constant(obj):
                    continue  # constants are matched by name (small ints and floats share identities)
                self.objects.setdefault(id(obj), qualified)
                self.keep.append(obj)
        self.names = frozenset(policy.qualified_names())
        self.constants = {q for q in policy.qualified_names() if self._has(q) and _constant(self._get(q))}
        self.attributes = policy.attribute_names()
        self.builtins = frozenset(policy.builtins) | EXCEPTIONS
        self.stores = frozenset(policy.stores)
        self.handed = frozenset(policy.handed)
        self._methods: dict[int, tuple[type, frozenset[str]]] = {}

    def _has(self, qualified: str) -> bool:
        module, _, name = qualified.rpartition(".")
        return module in self.modules and hasattr(self.modules[module], name)

    def _get(self, qualified: str) -> object:
        module, _, name = qualified.rpartition(".")
        return getattr(self.modules.get(module), name, None)

    def module_name(self, module: types.ModuleType) -> str | None:
        """The listed path of a module object (None: not listed)."""
        for path, m in self.modules.items():
            if m is module:
                return path
        return None

    def member(self, module_path: str, name: str) -> Member | None:
        """``module_path.name`` if the policy admits it, else None. Never evaluates anything but the
        module attribute itself (a listed module's attribute)."""
        if introspective(name) or name.startswith("_"):
            return None
        module = self.modules.get(module_path)
        qualified = f"{module_path}.{name}"
        if module is None:
            return None
        if qualified in self.constants:
            return Member(qualified, getattr(module, name), False)
        try:
            obj = getattr(module, name)
        except Exception:  # noqa: BLE001 - a lazy attribute that fails to load is not admitted
            return None
        if isinstance(obj, types.ModuleType):
            path = self.module_name(obj)
            return Member(path, obj, True) if path else None
        # By identity first, so an alias answers to the name the policy lists it under (a task's refusals
        # name that one); then by name, since importing torch._dynamo (a grading does) rewraps a few
        # listed functions such as torch.manual_seed after this index was built.
        listed = self.objects.get(id(obj)) or (qualified if qualified in self.names else None)
        return Member(listed, obj, False) if listed else None

    def importable(self, path: str) -> bool:
        return path in self.modules

    def methods(self, obj: object) -> frozenset[str]:
        """The names a value the gate cannot type may read (``ATTRIBUTES``, the handed Functions) that are
        Python functions on the class ``obj``: read off the class itself they run its code with whatever
        object is passed first (``FunctionCtx.set_materialize_grads(anything, v)``). Empty for non-classes."""
        if not isinstance(obj, type):
            return frozenset()
        if id(obj) not in self._methods:
            names = self.attributes | self.handed
            found = frozenset(n for n in names if isinstance(_class_attribute(obj, n), types.FunctionType))
            self._methods[id(obj)] = (obj, found)  # the class kept alive with its answer: ids stay unique
        return self._methods[id(obj)][1]

    @staticmethod
    def raw(obj: object) -> bool:
        """A listed class whose constructor lays an array over any buffer (``numpy.ndarray(shape, dtype=object,
        buffer=b, offset=-8)``: unchecked negative offsets, object pointers read from integers the file wrote, the
        twentieth red-team pass): named in ``isinstance``, annotations and class patterns only, never called or
        held as a value (arrays are made with ``numpy.zeros``, ``numpy.asarray``, ...)."""
        import numpy

        return obj is numpy.ndarray

    @functools.cached_property
    def api_stores(self) -> frozenset[str]:
        """Every attribute name the Python code of a listed class (each class of its MRO) may store or
        delete on an object. Called on a file's own object (``self.set_materialize_grads(v)`` where the
        family derives from ``FunctionCtx``), such code sets that name to what the caller passed: the gate
        never takes an own attribute of one of these names to hold only what the file binds."""
        seen: set[int] = set()
        found: set[str] = set()
        for obj in self.keep:
            for cls in obj.__mro__ if isinstance(obj, type) else ():
                if id(cls) in seen or cls.__module__ == "builtins":
                    continue
                seen.add(id(cls))
                for value in vars(cls).values():
                    for fn in _functions(value):
                        found |= _stored_names(fn.__code__)
        return frozenset(found)


def _class_attribute(cls: type, name: str) -> object:
    try:
        return getattr(cls, name, None)
    except Exception:  # noqa: BLE001 - a class attribute that fails to load is no method
        return None


def _functions(value: object) -> list[types.FunctionType]:
    """The Python functions a class attribute holds (a method, static or class method, property)."""
    parts = [value.fget, value.fset, value.fdel] if isinstance(value, property) else [
        getattr(value, "__func__", value)]
    out = []
    for part in parts:
        try:
            part = inspect.unwrap(part) if part is not None else None
        except ValueError:  # a cycle of __wrapped__
            continue
        if isinstance(part, types.FunctionType):
            out.append(part)
    return out


def _stored_names(code: types.CodeType) -> set[str]:
    """Attribute names ``code`` (and the code nested in it) stores or deletes; with ``setattr``/``delattr``
    called, or ``__setattr__``/``__delattr__`` (``super().__setattr__("_forward_hooks", ...)`` in
    ``Module.__init__``: the eighteenth red-team pass), every identifier string constant too."""
    found = {i.argval for i in dis.get_instructions(code) if i.opname in ("STORE_ATTR", "DELETE_ATTR")}
    if {"setattr", "delattr", "__setattr__", "__delattr__"} & set(code.co_names):
        found |= {c for c in code.co_consts if isinstance(c, str) and c.isidentifier()}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _stored_names(const)
    return found


@functools.lru_cache(maxsize=8)
def index_for(policy: Policy) -> Index:
    return Index(policy)
