"""Names to values: a ``Name`` node, through its scope's bindings, to what the gate knows of it."""

from __future__ import annotations

import ast
import builtins

from course_nn.grading.review import values as V
from course_nn.grading.review.index import Index, introspective
from course_nn.grading.review.scopes import Binding, Scopes

# Names the interpreter's ``site`` adds to builtins in some environments: refused like any built-in
# that is not listed, even where the parent's interpreter lacks them.
SITE_BUILTINS = frozenset({"exit", "quit", "help", "copyright", "credits", "license"})


def is_builtin(name: str) -> bool:
    return hasattr(builtins, name) or name in SITE_BUILTINS or introspective(name)


class Resolver:
    def __init__(self, scopes: Scopes, index: Index):
        self.scopes = scopes
        self.index = index
        self._classes = None
        # Every answer below is a function of (binding or name in its scope, depth): remembered, so a file
        # that binds each of a chain of names many times costs linear time, not (bindings per name)**depth.
        self._memo: dict[tuple, object] = {}

    @property
    def classes(self):
        """The file's classes (classes.Classes), set once they are analysed."""
        return self._classes

    @classes.setter
    def classes(self, value) -> None:
        self._classes = value
        self._memo.clear()  # values computed without the classes are not the same values

    def _remembered(self, key: tuple, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- bindings
    def binding_value(self, b: Binding, depth: int = 0) -> V.Value:
        return self._remembered(("binding", id(b), depth), lambda: self._binding_value(b, depth))

    def _binding_value(self, b: Binding, depth: int) -> V.Value:
        if b.kind in ("assign", "annassign", "walrus") and self.classes:
            fid = self.classes.tuple_families.get(id(b.node))
            if fid is not None:  # Pair = namedtuple("Pair", "first second")
                return V.Value(V.OWN_CLASS, b.name, fid, fid)
            if isinstance(b.value, ast.Name) and depth < 8:
                v = self.quiet_value(b.value, depth + 1)  # `Square = MulSelf`: still that own class
                return v if v.kind == V.OWN_CLASS else V.UNKNOWN_VALUE
            if isinstance(b.value, ast.Call) and isinstance(b.value.func, ast.Name) and depth < 8:
                v = self.quiet_value(b.value.func, depth + 1)  # shape = Batch(n, d): an instance of it
                fam = self.classes.family(v.family) if v.kind == V.OWN_CLASS and v.obj != "mixed" else None
                if fam is not None and not fam.function:
                    return V.Value(V.INSTANCE, v.name, None, v.family)
            return V.UNKNOWN_VALUE
        if b.kind == "import":
            return self.import_value(b)
        if b.kind == "class":
            fid = self.classes.family_of(b.node) if self.classes else -1
            return V.Value(V.OWN_CLASS, b.name, fid, fid)
        if b.kind == "def" and self.classes and self.classes.is_trusted_method(b.node):
            return V.Value(V.METHOD, b.name, b.node)
        if b.kind == "param" and self.classes:
            fid = self.classes.trusted.get(id(b.node))
            if fid is not None:
                return V.Value(V.TRUSTED, b.name, fid, fid)
            fid = self.classes.cls_params.get(id(b.node))
            if fid is not None:
                return V.Value(V.OWN_CLASS, b.name, fid, fid)
        return V.UNKNOWN_VALUE

    def quiet_value(self, node: ast.Name, depth: int = 0) -> V.Value:
        """What a name is, without reporting anything (for aliases of own classes)."""
        key = ("name", node.id, id(self.scopes.scope_of(node)), depth)
        return self._remembered(key, lambda: self._quiet_value(node, depth))

    def _quiet_value(self, node: ast.Name, depth: int) -> V.Value:
        found, builtin = self.lookup(node)
        vals = [self.binding_value(b, depth) for b in found]
        if builtin:
            vals.append(self.builtin_value(node.id) or V.UNKNOWN_VALUE)
        return self.join(vals)

    def join(self, vals: list[V.Value]) -> V.Value:
        """One value for a name bound several ways. Own classes stay own classes (restricted as the
        strictest of them); a mix of own classes and anything else keeps only the listed attributes."""
        if not vals:
            return V.UNKNOWN_VALUE
        method = next((v for v in vals if v.kind == V.METHOD), None)
        if method is not None:  # a class body's method, maybe rebound: still never a value
            return method
        own = [v for v in vals if v.kind == V.OWN_CLASS]
        if not own or len(own) == len(vals) and all(v == own[0] for v in own):
            return V.join(vals)
        fid = self.classes.merge(frozenset(v.family for v in own))
        mixed = len(own) != len(vals)
        return V.Value(V.OWN_CLASS, own[0].name, "mixed" if mixed else fid, fid)

    def import_value(self, b: Binding) -> V.Value:
        path = b.module or ""
        if b.member is None:
            return V.module(path) if self.index.importable(path) else V.UNKNOWN_VALUE
        m = self.index.member(path, b.member) if self.index.importable(path) else None
        if m is None:
            return V.UNKNOWN_VALUE
        return V.module(m.qualified) if m.module else V.known(m.qualified, m.obj)

    def builtin_value(self, name: str) -> V.Value | None:
        """The built-in ``name`` if it is listed; None if it is a built-in the file may not use."""
        if name in self.index.builtins:
            return V.Value(V.BUILTIN, name, getattr(builtins, name, None))
        return None

    def lookup(self, node: ast.Name) -> tuple[list[Binding], bool]:
        res = self.scopes.lookup(node.id, self.scopes.scope_of(node))
        return list(res.bindings), res.builtin and is_builtin(node.id)

    def binding_of(self, node: ast.Name) -> Binding | None:
        """The one binding a name refers to, or None when there are several (or none)."""
        found, builtin = self.lookup(node)
        return found[0] if len(found) == 1 and not builtin else None

    def _own_classes(self, found: list[Binding], depth: int) -> list[ast.ClassDef] | None:
        """The class statements a name refers to, through aliases (``_Sigmoid = Sigmoid``); None when
        any binding is something else."""
        out: list[ast.ClassDef] = []
        for b in found:
            if b.kind == "class":
                out.append(b.node)  # type: ignore[arg-type]
            elif b.kind == "assign" and isinstance(b.value, ast.Name) and depth < 8:
                target = self.static(b.value, depth + 1)
                if isinstance(target, ast.ClassDef):
                    out.append(target)
                elif isinstance(target, tuple):
                    out += target
                else:
                    return None
            else:
                return None
        return list({id(c): c for c in out}.values())

    def strings(self, node: ast.AST, depth: int = 0) -> frozenset[str] | None:
        """The strings a name given to ``setattr`` may be, where plainly written (a literal, a conditional
        between them, a variable bound only to them or looping over a written-out tuple); None otherwise."""
        if isinstance(node, ast.Constant):
            return frozenset({node.value}) if isinstance(node.value, str) else None
        parts: list[ast.AST] = []
        if isinstance(node, ast.IfExp):
            parts = [node.body, node.orelse]
        elif isinstance(node, ast.Name) and depth < 8:
            found, builtin = self.lookup(node)
            for b in found if found and not builtin else [None]:
                if b is not None and b.kind in ("assign", "annassign", "walrus") and b.value is not None:
                    parts.append(b.value)
                elif b is not None and b.kind == "for" and isinstance(b.node, (ast.For, ast.comprehension)) and (
                        isinstance(b.node.iter, (ast.Tuple, ast.List, ast.Set)) and isinstance(b.node.target, ast.Name)):
                    parts += b.node.iter.elts
                else:
                    return None
        out: set[str] = set()
        for part in parts or [None]:
            found_here = self.strings(part, depth + 1) if part is not None else None
            if found_here is None:
                return None
            out |= found_here
        return frozenset(out)

    # -- static objects (base classes, decorators), without reporting anything
    def static(self, node: ast.AST, depth: int = 0) -> object:
        """A listed object, an own ``ClassDef`` (a tuple of them for a name bound to several), a listed
        built-in, or None (unknown)."""
        if isinstance(node, ast.Name):
            key = ("static", node.id, id(self.scopes.scope_of(node)), depth)
            return self._remembered(key, lambda: self._static_name(node, depth))
        if isinstance(node, ast.Attribute):
            base = self.static(node.value)
            path = self.index.module_name(base) if base is not None and type(base).__name__ == "module" else None
            if path:
                m = self.index.member(path, node.attr)
                return m.obj if m else None
            if isinstance(base, type) and not introspective(node.attr):
                return getattr(base, node.attr, None)
        return None

    def _static_name(self, node: ast.Name, depth: int) -> object:
        found, builtin = self.lookup(node)
        if not found:
            v = self.builtin_value(node.id) if builtin else None
            return v.obj if v else None
        classes = self._own_classes(found, depth) if not builtin else None
        if classes:
            return classes[0] if len(classes) == 1 else tuple(classes)
        vals = [self.import_value(b) for b in found if b.kind == "import"]
        if len(vals) == len(found) and not builtin:
            v = V.join(vals)
            return self.index.modules.get(v.name) if v.kind == V.MODULE else v.obj
        return None
