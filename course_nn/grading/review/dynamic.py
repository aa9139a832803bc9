"""Names computed at run time: ``getattr``/``setattr``/``hasattr`` and ``str.format`` fields.

A dynamic lookup is admitted only where the gate can read every name it may produce:

- a name it can list: a string, a conditional between strings, a dict of strings indexed, a
  variable or own attribute only ever bound to those — then each name is checked as if written
  ``x.name`` (on hw2 the names of the Functions handed to MLP are listed attributes);
- on a trusted receiver (``self``), a computed name with a fixed start (``f"weight_{d}"``) that
  no attribute the object already has begins with, and that the family itself assigns.

``str.format`` reads attributes and items through its fields (``"{0.__class__}"``): only a written
-out string whose fields are plain positions or names may call it, whether the method is read as
``t.format``, by a listed name (``getattr(t, "format")``) or by a class pattern (rules.py).
"""

from __future__ import annotations

import ast
import string

from course_nn.grading.review import messages as M
from course_nn.grading.review import values as V
from course_nn.grading.review.classes import Family, constant_prefix
from course_nn.grading.review.index import introspective
from course_nn.grading.review.values import BASE, VALUE, Value

MAX_DEPTH = 8
# str's methods that read attributes and items by the names inside the template: however they are
# reached (`t.format`, getattr(t, "format"), `case str(format=f)`), only on a written-out template
FORMAT_METHODS = frozenset({"format", "format_map"})
# dict methods that read a dict without changing it or handing it on
DICT_READS = frozenset({"get", "keys", "values", "items"})


class DynamicRules:
    _escaping: set[int] | None = None
    _strings: dict[tuple, frozenset[str] | None] | None = None

    def dynamic_call(self, node: ast.Call, kind: str) -> Value:
        args = node.args
        if len(args) < 2 or node.keywords or any(isinstance(a, ast.Starred) for a in args):
            self.refuse(node, M.dynamic_name(self.policy))
            return self.arguments(node)
        recv_node, key = args[0], args[1]
        recv = self.expr(recv_node, BASE)
        self.exprs(args[2:])
        names = self.static_strings(key)
        if names is not None:
            for name in sorted(names):
                if name in FORMAT_METHODS and kind != "setattr":  # the rule of `recv_node.format`
                    if not self.safe_format(recv_node):
                        self.refuse(node, M.format_fields())
                    continue
                self._named(node, recv, name, kind)
            return V.UNKNOWN_VALUE
        self.expr(key)
        fam = self.classes.family(recv.family) if recv.kind == V.TRUSTED else None
        if fam is None or not self._prefix_ok(constant_prefix(key), fam):
            self.refuse(node, M.dynamic_name(self.policy))
        return V.UNKNOWN_VALUE

    def _named(self, node: ast.Call, recv: Value, name: str, kind: str) -> None:
        if introspective(name):
            self.refuse(node, M.introspection(name))
        elif kind == "setattr":
            if recv.kind != V.TRUSTED and not (recv.kind == V.UNKNOWN and name in self.index.stores):
                self.refuse(node, M.store(name))
        else:  # as if written `recv.name`: a handed Function's name is listed on objects the gate cannot
            found = self.member(node, recv, name, VALUE)  # type, never a way around an own class's method rules
            if kind == "getattr":  # its result is a value like any other: `getattr(torch.nn, "Module")` too
                self.allowed_use(node, found, VALUE)

    def _prefix_ok(self, prefix: str, fam: Family) -> bool:
        """A computed name that can only be one the family sets itself (never one the object has)."""
        if not self.classes.safe_prefix(prefix, fam):
            return False
        return (any(prefix.startswith(p) for p in fam.patterns)
                or any(n.startswith(prefix) for n in self.classes.own_names(fam)))

    # -- what strings an expression can be
    def static_strings(self, node: ast.AST, depth: int = 0) -> frozenset[str] | None:
        """Every string ``node`` may evaluate to, or None when the gate cannot list them."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return frozenset({node.value}) if isinstance(node.value, str) else None
        if isinstance(node, ast.IfExp):
            return self._union([node.body, node.orelse], depth)
        if isinstance(node, ast.Subscript):
            table = self._dict_values(node.value, depth)
            return self._union(table, depth) if table is not None else None
        if isinstance(node, ast.Name):
            return self._name_strings(node, depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            fid = self.classes.receiver(node.value)
            fam = self.classes.family(fid) if fid is not None else None
            if (fam is None or any(node.attr.startswith(p) for p in fam.patterns)
                    or node.attr not in self.classes.own_names(fam)
                    or node.attr in self.index.stores or node.attr in self.index.api_stores):
                # `grad`, `data`, `requires_grad` may be set from outside, on any object; the names a listed
                # class's code stores (`materialize_grads`) by a method an own object inherits
                return None
            assigned = list(fam.values.get(node.attr, []))
            for c in fam.classes:
                body = self.scopes.opened[id(c)].bindings.get(node.attr, [])
                if any(b.kind == "annassign" for b in body):
                    return None  # a dataclass or NamedTuple field: its value is whatever the caller passed
                assigned += [b.value for b in body]
            if not assigned or any(v is None for v in assigned):
                return None
            return self._union(assigned, depth)
        return None

    def _union(self, nodes: list[ast.AST], depth: int) -> frozenset[str] | None:
        found: set[str] = set()
        for n in nodes:
            part = self.static_strings(n, depth + 1)
            if part is None:
                return None
            found |= part
        return frozenset(found)

    def _name_strings(self, node: ast.Name, depth: int) -> frozenset[str] | None:
        if self._strings is None:
            self._strings = {}
        key = (node.id, id(self.scopes.scope_of(node)), depth)  # remembered: linear time on long chains
        if key not in self._strings:
            self._strings[key] = self._bound_strings(node, depth)
        return self._strings[key]

    def _bound_strings(self, node: ast.Name, depth: int) -> frozenset[str] | None:
        found, builtin = self.resolver.lookup(node)
        if builtin or not found:
            return None
        values: list[ast.AST] = []
        for b in found:
            if b.kind in ("assign", "annassign", "walrus") and b.value is not None:
                values.append(b.value)
            elif b.kind == "for" and isinstance(b.node, (ast.For, ast.comprehension)) and isinstance(
                    b.node.iter, (ast.Tuple, ast.List, ast.Set)) and isinstance(b.node.target, ast.Name):
                values += b.node.iter.elts
            else:
                return None
        return self._union(values, depth)

    def _dict_values(self, node: ast.AST, depth: int) -> list[ast.AST] | None:
        """The values of a dict literal, inline or bound to a name that is only ever indexed."""
        if isinstance(node, ast.Dict):
            return None if None in node.keys else list(node.values)
        if not isinstance(node, ast.Name):
            return None
        found, builtin = self.resolver.lookup(node)
        if builtin or not found or any(b.kind != "assign" or not isinstance(b.value, ast.Dict) for b in found):
            return None
        if not self.only_indexed({id(b) for b in found}):
            return None
        values: list[ast.AST] = []
        for b in found:
            if None in b.value.keys:  # type: ignore[union-attr]
                return None
            values += b.value.values  # type: ignore[union-attr]
        return values

    def only_indexed(self, binding_ids: set[int]) -> bool:
        """Every load that may see these bindings only reads the dict (never changes, passes or stores it)."""
        if self._escaping is None:  # one pass over the file: bindings some load uses other than to read
            self._escaping = set()
            for name_node, parent in self.name_parents:
                if isinstance(name_node.ctx, ast.Load) and not self._reads_only(name_node, parent):
                    self._escaping.update(id(b) for b in self.resolver.lookup(name_node)[0])
        return not (binding_ids & self._escaping)

    def _reads_only(self, name: ast.Name, parent: ast.AST) -> bool:
        """``name[key]``, ``key in name``, ``for k in name``, ``len(name)``, ``name.get(k)``/``.keys()``/...:
        uses that change none of a dict literal's values (nothing else ever sees the dict itself)."""
        if isinstance(parent, ast.Subscript):
            return parent.value is name and isinstance(parent.ctx, ast.Load)
        if isinstance(parent, ast.Compare):
            return any(c is name and isinstance(op, (ast.In, ast.NotIn)) for op, c in zip(parent.ops,
                                                                                         parent.comparators))
        if isinstance(parent, (ast.For, ast.comprehension)):
            return parent.iter is name
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "len":
            return parent.args == [name] and not parent.keywords and self.resolver.lookup(parent.func) == ([], True)
        if isinstance(parent, ast.Attribute) and parent.value is name and parent.attr in DICT_READS:
            return id(parent) in self.called  # the method called at once, never kept as a value
        return False

    # -- format strings
    def safe_format(self, node: ast.AST) -> bool:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return False
        return _plain_fields(node.value)


def _plain_fields(text: str, depth: int = 0) -> bool:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return False
    for _literal, field_name, spec, _conv in parsed:
        if field_name is not None and ("." in field_name or "[" in field_name):
            return False
        if spec and depth < 2 and not _plain_fields(spec, depth + 1):
            return False
    return True
