"""Python's scoping rules, as the gate needs them: which binding does a name refer to?

One pass over the tree builds the scopes (module, class, function, lambda, comprehension) and
every binding in them — assignment, augmented and annotated assignment, parameter, ``for``,
``with``, ``except``, walrus, ``import``, ``match`` capture, ``def``, ``class``, ``del`` — and
notes, for every ``Name`` node, the scope it is evaluated in (decorators, defaults, annotations,
base classes and a comprehension's first iterable belong to the enclosing scope, as in CPython).
``lookup`` then applies the LEGB rule with ``global``/``nonlocal`` and class scopes (skipped by
the functions inside them). A name is a module only where every binding it may refer to is an
import of that module; a parameter named ``torch`` is just a parameter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(eq=False)
class Binding:
    kind: str  # import, param, assign, augassign, annassign, for, with, except, walrus, match, def, class, del
    node: ast.AST  # the statement or node that binds (for its line)
    name: str
    module: str | None = None  # import: the module path bound ("torch", "torch.nn.functional")
    member: str | None = None  # from-import: the name taken from ``module``
    value: ast.AST | None = None  # assign: the right-hand side when the whole target is this name
    scope: Scope | None = None


@dataclass(eq=False)
class Scope:
    node: ast.AST
    kind: str  # module, class, function, lambda, comprehension
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)

    def function_like(self) -> bool:
        return self.kind in ("function", "lambda", "comprehension")


@dataclass(frozen=True)
class Resolution:
    """What a name may refer to: bindings (possibly from several scopes) and/or the built-in."""

    bindings: tuple[Binding, ...]
    builtin: bool  # the built-in of that name is possible (not bound anywhere it could be found first)


class Scopes:
    """The scope tree of one module and the scope each Name node is evaluated in."""

    def __init__(self, tree: ast.Module):
        self.module = Scope(tree, "module", None)
        self.of_node: dict[int, Scope] = {}  # id(Name node / scope-opening node) -> scope evaluated in
        self.opened: dict[int, Scope] = {}  # id(def / class / lambda / comprehension) -> its own scope
        self.all_bindings: list[Binding] = []
        _Binder(self).run(tree)

    def scope_of(self, node: ast.AST) -> Scope:
        return self.of_node.get(id(node), self.module)

    def lookup(self, name: str, scope: Scope) -> Resolution:
        """The bindings ``name`` may refer to when loaded in ``scope`` (CPython's rules)."""
        if name in scope.declared_global:
            return self._global(name)
        if name in scope.declared_nonlocal:
            return self._enclosing(name, scope.parent)
        if scope.kind == "module":
            return self._global(name)
        own = tuple(scope.bindings.get(name, ()))
        if scope.kind == "class":
            # A class body reads its own namespace, then falls back: both are possible.
            outer = self._enclosing(name, scope.parent)
            return Resolution(own + outer.bindings, outer.builtin) if own else outer
        if own:
            return Resolution(own, False)
        return self._enclosing(name, scope.parent)

    def _enclosing(self, name: str, scope: Scope | None) -> Resolution:
        while scope is not None and scope.kind != "module":
            if scope.kind != "class":  # functions never see a class body's names
                if name in scope.declared_global:
                    return self._global(name)
                if name in scope.bindings:
                    return Resolution(tuple(scope.bindings[name]), False)
            scope = scope.parent
        return self._global(name)

    def _global(self, name: str) -> Resolution:
        found = tuple(self.module.bindings.get(name, ()))
        # Module-level code may run before the binding does: then the built-in is what it finds.
        return Resolution(found, True)


class _Binder(ast.NodeVisitor):
    def __init__(self, scopes: Scopes):
        self.s = scopes
        self.scope = scopes.module
        self.pending: list[tuple[Scope, Binding]] = []  # nonlocal bindings, placed once every scope is known

    def run(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            self.visit(stmt)
        for scope, b in self.pending:
            target = self._nonlocal_target(b.name, scope.parent) or scope
            b.scope = target
            target.bindings.setdefault(b.name, []).append(b)

    # -- recording
    def bind(self, name: str, kind: str, node: ast.AST, **extra) -> None:
        scope = self.scope
        b = Binding(kind, node, name, scope=scope, **extra)
        self.s.all_bindings.append(b)
        if name in scope.declared_nonlocal:
            self.pending.append((scope, b))
            return
        if name in scope.declared_global:
            scope = b.scope = self.s.module
        scope.bindings.setdefault(name, []).append(b)

    def _nonlocal_target(self, name: str, scope: Scope | None) -> Scope | None:
        while scope is not None and scope.kind != "module":
            if scope.kind != "class" and name in scope.declared_nonlocal:
                return self._nonlocal_target(name, scope.parent) or scope
            if scope.kind != "class" and name in scope.bindings:
                return scope
            scope = scope.parent
        return None

    def _walrus_scope(self) -> Scope:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    def targets(self, target: ast.AST, kind: str, node: ast.AST, value: ast.AST | None = None) -> None:
        """Bind every name in an assignment target; visit the rest (attributes, subscripts) as loads."""
        if isinstance(target, ast.Name):
            self.s.of_node[id(target)] = self.scope
            self.bind(target.id, kind, node, value=value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.targets(elt, kind, node)
        elif isinstance(target, ast.Starred):
            self.targets(target.value, kind, node)
        else:
            self.visit(target)

    def open(self, node: ast.AST, kind: str) -> Scope:
        scope = Scope(node, kind, self.scope)
        self.s.opened[id(node)] = scope
        return scope

    def visit_If(self, node: ast.If) -> None:
        if self.scope.kind == "module" and is_main_guard(node):
            for stmt in node.orelse:  # the guarded block never runs under grading: it binds nothing
                self.visit(stmt)
            return
        self.generic_visit(node)

    # -- names
    def visit_Name(self, node: ast.Name) -> None:
        self.s.of_node[id(node)] = self.scope
        if isinstance(node.ctx, ast.Del):
            self.bind(node.id, "del", node)
        elif isinstance(node.ctx, ast.Store):
            self.bind(node.id, "assign", node)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.declared_nonlocal.update(node.names)

    # -- statements that bind
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for t in node.targets:
            self.targets(t, "assign", node, node.value if isinstance(t, ast.Name) else None)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self.targets(node.target, "augassign", node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        self.targets(node.target, "annassign", node, node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.targets(node.target, "for", node)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.targets(item.optional_vars, "with", node)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name, "except", node)
        for stmt in node.body:
            self.visit(stmt)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        saved, self.scope = self.scope, self._walrus_scope()
        self.s.of_node[id(node.target)] = saved
        self.bind(node.target.id, "walrus", node, value=node.value)
        self.scope = saved

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, "import", node, module=alias.name)
            else:
                self.bind(alias.name.split(".")[0], "import", node, module=alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.bind(alias.asname or alias.name, "import", node,
                          module=("." * node.level) + (node.module or ""), member=alias.name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self.bind(node.name, "match", node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name, "match", node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self.bind(node.rest, "match", node)

    # -- scopes
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self._arguments_outside(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self.bind(node.name, "def", node)
        saved, self.scope = self.scope, self.open(node, "function")
        self._parameters(node.args, node)
        for stmt in node.body:
            self.visit(stmt)
        self.scope = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._arguments_outside(node.args)
        self.s.of_node[id(node)] = self.scope
        saved, self.scope = self.scope, self.open(node, "lambda")
        self._parameters(node.args, node)
        self.visit(node.body)
        self.scope = saved

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.bind(node.name, "class", node)
        saved, self.scope = self.scope, self.open(node, "class")
        for stmt in node.body:
            self.visit(stmt)
        self.scope = saved

    def _comprehension(self, node: ast.AST, parts: list[ast.AST]) -> None:
        gens: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(gens[0].iter)  # evaluated in the enclosing scope
        self.s.of_node[id(node)] = self.scope
        saved, self.scope = self.scope, self.open(node, "comprehension")
        for i, gen in enumerate(gens):
            if i:
                self.visit(gen.iter)
            self.targets(gen.target, "for", gen)
            for cond in gen.ifs:
                self.visit(cond)
        for part in parts:
            self.visit(part)
        self.scope = saved

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _arguments_outside(self, args: ast.arguments) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None and a.annotation is not None:
                self.visit(a.annotation)

    def _parameters(self, args: ast.arguments, node: ast.AST) -> None:
        for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]:
            if a is not None:
                self.bind(a.arg, "param", a)


def is_main_guard(node: ast.If) -> bool:
    """``if __name__ == "__main__":`` (either order). Its body never runs under grading: the module has
    another name, and no graded file can rebind ``__name__``."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def parameters(args: ast.arguments) -> list[ast.arg]:
    """Every parameter in order: positional-only, positional, *args, keyword-only, **kwargs."""
    return [a for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg] if a is not None]
