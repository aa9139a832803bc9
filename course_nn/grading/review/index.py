"""The registry's allow-list, resolved once per policy against the modules installed in the parent.

Every listed qualified name is looked up for real (``torch.nn.functional.linear`` -> that function
object). A module attribute is then admitted when it is a listed module or the very same object as
a listed name, whatever path reached it (``torch.nn.parameter.Parameter`` is
``torch.nn.Parameter``). Names a release does not have are simply absent: nothing is admitted by
pattern, so an upgrade adds nothing by itself.
"""

from __future__ import annotations

import builtins
import functools
import importlib
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
        self.constants = {q for q in policy.qualified_names() if self._has(q) and _constant(self._get(q))}
        self.attributes = policy.attribute_names()
        self.builtins = frozenset(policy.builtins) | EXCEPTIONS
        self.stores = frozenset(policy.stores)
        self.handed = frozenset(policy.handed)

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
        listed = self.objects.get(id(obj))
        return Member(listed, obj, False) if listed else None

    def importable(self, path: str) -> bool:
        return path in self.modules


@functools.lru_cache(maxsize=8)
def index_for(policy: Policy) -> Index:
    return Index(policy)
