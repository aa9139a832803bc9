"""The gate's rules for statements, definitions, imports and patterns, and the checker that runs them.

``Gate`` walks the module once. Each ``s_<Node>`` method checks one statement; expressions are
expressions.py's, computed names dynamic.py's. A node type without a method is refused. Every
finding is recorded, not only the first, so one resubmission can fix them all.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses

from course_nn.grading.review import messages as M
from course_nn.grading.review import values as V
from course_nn.grading.review.bases import BaseRules
from course_nn.grading.review.classes import Classes
from course_nn.grading.review.dynamic import FORMAT_METHODS, DynamicRules
from course_nn.grading.review.expressions import DESCRIPTORS, ExpressionRules
from course_nn.grading.review.index import index_for, introspective
from course_nn.grading.review.resolve import Resolver, is_builtin
from course_nn.grading.review.scopes import Scopes, is_main_guard
from course_nn.grading.review.shortcuts import AUTOGRAD, canonical, helper_reach
from course_nn.grading.review.source import walk
from course_nn.grading.review.values import CLASSREF
from course_nn.grading.review.verdict import Violation
from course_nn.registry import Assignment

# Double-underscore methods a class may define: everything else changes how Python or torch treat
# an object (__torch_function__, __del__, __getattr__, __init_subclass__, __set_name__, ...).
ALLOWED_DUNDER_DEFS = frozenset({"__init__", "__post_init__", "__repr__", "__str__", "__len__", "__getitem__",
                                 "__iter__", "__contains__", "__call__", "__eq__", "__ne__", "__lt__", "__le__",
                                 "__gt__", "__ge__", "__hash__"})
# Class decorators that return the very class they are given (with keyword options only).
CLASS_DECORATORS = frozenset({"dataclasses.dataclass"})
# Metadata a module may assign.
DUNDER_STORES = frozenset({"__all__", "__version__", "__author__", "__doc__"})


class Gate(ExpressionRules, DynamicRules, BaseRules):
    def __init__(self, source: str, tree: ast.Module, assignment: Assignment):
        self.lines = source.splitlines()
        self.assignment = assignment
        self.policy = assignment.rules
        self.index = index_for(self.policy)
        self.scopes = Scopes(tree)
        self.resolver = Resolver(self.scopes, self.index)
        self.classes = Classes(tree, self.scopes, self.resolver)
        self.resolver.classes = self.classes
        self.all_ops = frozenset(canonical(n) for t in assignment.tasks for n in t.forbidden)
        self.name_parents: list[tuple[ast.Name, ast.AST]] = []
        self.called: set[int] = set()  # the callee nodes of every call (dynamic.py: a method called at once)
        for node in walk(tree):
            if isinstance(node, ast.Call):
                self.called.add(id(node.func))
            self.name_parents += [(child, node) for child in ast.iter_child_nodes(node) if isinstance(child, ast.Name)]
        self.found: list[Violation] = []
        self._seen: set[Violation] = set()
        self.owner: str | None = None
        self.in_forward = False
        self.class_stack: list[ast.ClassDef] = []
        self.depth = 0  # functions and lambdas around the current node
        self.functions: list[ast.AST] = []  # ... and which they are, innermost last
        self.helper = 0  # the def line of the module-level helper function being checked (verdict.py)
        self.reach = helper_reach(tree, self.scopes, self.resolver, self.task_of, self.called)

    # -- recording
    def refuse(self, node: ast.AST, rule: str) -> None:
        self._record(node, rule, True, "")

    def shortcut(self, node: ast.AST, op: str, shown: str) -> None:
        if op in AUTOGRAD or op == "autograd":
            if not self.assignment.autograd_allowed:
                self._record(node, f"`{shown}` is autograd; {M.AUTOGRAD_RULE}", False, "autograd")
            return
        if op in self.all_ops:
            self._record(node, M.shortcut(shown, op), False, op)

    def _record(self, node: ast.AST, rule: str, escape: bool, op: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        v = Violation(line, code[:120], rule, escape, self.owner, self.in_forward, op, self.helper)
        if v not in self._seen:  # a set: a file of many refused lines costs linear time
            self._seen.add(v)
            self.found.append(v)

    # -- context
    @contextlib.contextmanager
    def function(self, node: ast.AST):
        self.depth += 1
        self.functions.append(node)
        saved = self.in_forward
        if self.owner is not None and getattr(node, "name", "") in ("forward", "setup_context"):
            self.in_forward = True
        try:
            yield
        finally:
            self.in_forward = saved
            self.functions.pop()
            self.depth -= 1

    @contextlib.contextmanager
    def owned_by(self, name: str):
        saved = self.owner
        if self.owner is None:
            self.owner = self.task_of(name)
        try:
            yield
        finally:
            self.owner = saved

    def task_of(self, name: str) -> str | None:
        try:
            return self.assignment.task(name).name
        except KeyError:
            return None

    def current_family(self):
        return self.classes.family(self.classes.family_of(self.class_stack[-1])) if self.class_stack else None

    def in_class_body(self) -> bool:
        return bool(self.class_stack) and self.depth == self._class_depth[-1]

    # -- the whole module
    def run(self, tree: ast.Module) -> list[Violation]:
        self._class_depth: list[int] = []
        self.check_module_names()
        self.body(tree.body)
        return sorted(self.found, key=lambda v: v.line)

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            handler = getattr(self, "s_" + type(stmt).__name__, None)
            if handler is None:
                self.refuse(stmt, M.construct(stmt))
            else:
                handler(stmt)

    def check_module_names(self) -> None:
        """A name bound to a module by an import may be bound no other way in that scope."""
        for scope in [self.scopes.module, *self.scopes.opened.values()]:
            for name, bindings in scope.bindings.items():
                if name.startswith("__"):
                    continue  # refused as a binding already
                imports = [self.resolver.import_value(b) if b.kind == "import" else None for b in bindings]
                modules = sorted({v.name for v in imports if v is not None and v.kind == V.MODULE})
                if not modules:
                    continue
                shadows = scope.kind in ("module", "class") and is_builtin(name)
                for b, v in zip(bindings, imports):
                    if v is None or v.kind != V.MODULE or v.name != modules[0] or shadows:
                        self.refuse(b.node, M.module_rebound(name, modules[0]))

    # -- binding names
    def bind_name(self, name: str, node: ast.AST) -> None:
        if name.startswith("__") and not (name in DUNDER_STORES and not self.class_stack and not self.depth):
            self.refuse(node, M.dunder_binding(name))
        elif introspective(name) and self.class_stack and self.in_class_body():
            self.refuse(node, M.introspection(name))  # a class attribute of that name

    def bind_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.bind_name(target.id, target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind_target(elt)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.expr(target)
        else:
            self.refuse(target, M.construct(target))

    # -- simple statements
    def s_Expr(self, node: ast.Expr) -> None:
        self.expr(node.value)

    def s_Return(self, node: ast.Return) -> None:
        b = self.resolver.binding_of(node.value) if isinstance(node.value, ast.Name) else None
        if b is not None and b.kind == "class" and self.functions:
            fam = self.classes.family(self.classes.family_of(b.node))
            if fam is not None and fam.guarded:  # a class factory (`Square = _elementwise(f, df)`): say so
                self.refuse(node.value, M.class_factory(node.value.id))
                return
        self.expr(node.value)

    def s_Assign(self, node: ast.Assign) -> None:
        # `Square = MulSelf` names the same class (then restricted the same way); not in a class body,
        # where it would become an attribute the gate does not follow
        alias = (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Name)
                 and not self.in_class_body())
        value = self.expr(node.value, CLASSREF if alias else V.VALUE)
        if alias and value.kind in (V.KNOWN, V.BUILTIN) and self.index.methods(value.obj):
            # the gate follows aliases of own classes only: `Ctx = FunctionCtx` would be a value it cannot type
            self.refuse(node.value, M.listed_class_value(value.name, min(self.index.methods(value.obj))))
        if alias and value.kind == V.OWN_CLASS and any(
                b.kind in ("assign", "annassign", "walrus") and isinstance(b.value, ast.Name)
                for b in self.resolver.lookup(node.value)[0]):
            # an alias of an alias: the gate follows such chains only a few names deep, so a longer one
            # could turn a class into a value it no longer recognises; one step is all a file needs
            self.refuse(node, M.alias_chain(node.value.id))
        for t in node.targets:
            self.bind_target(t)

    def s_AugAssign(self, node: ast.AugAssign) -> None:
        self.expr(node.value)
        target = node.target
        if isinstance(target, ast.Attribute):  # reads, then stores
            self.expr(ast.copy_location(ast.Attribute(target.value, target.attr, ast.Load()), target))
        self.bind_target(target)

    def s_AnnAssign(self, node: ast.AnnAssign) -> None:
        # In a class body the annotation may be a value: @dataclass keeps it as the `.type` of the field the
        # class body binds the name to (`x: Grab = _f` with `_f = field()` held elsewhere); no value, a constant
        # or a `field(...)` made there leave the file no Field to read it from
        held = self.in_class_body() and not self.fresh_field(node.value)
        self.expr(node.annotation, V.VALUE if held else CLASSREF)
        self.expr(node.value)
        self.bind_target(node.target)

    def fresh_field(self, value: ast.expr | None) -> bool:
        """A class-body default that is no Field the file holds elsewhere: none, a constant, `field(...)`."""
        if value is None or isinstance(value, ast.Constant):
            return True
        return isinstance(value, ast.Call) and self.resolver.static(value.func) is dataclasses.field

    def s_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self.bind_target(t)

    def s_Assert(self, node: ast.Assert) -> None:
        self.expr(node.test)
        self.expr(node.msg)

    def s_Raise(self, node: ast.Raise) -> None:
        for part in (node.exc, node.cause):
            if part is not None:
                self.expr(part, CLASSREF)

    def s_Pass(self, node: ast.stmt) -> None:
        return

    s_Break = s_Continue = s_Pass

    def s_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        for name in node.names:
            self.bind_name(name, node)

    s_Nonlocal = s_Global

    # -- compound statements
    def s_If(self, node: ast.If) -> None:
        if not self.class_stack and not self.depth and is_main_guard(node):
            self.body(node.orelse)  # never runs under grading: a student's own checks live there
            return
        self.expr(node.test)
        self.body(node.body)
        self.body(node.orelse)

    def s_For(self, node: ast.For) -> None:
        self.expr(node.iter)
        self.bind_target(node.target)
        self.body(node.body)
        self.body(node.orelse)

    def s_While(self, node: ast.While) -> None:
        self.expr(node.test)
        self.body(node.body)
        self.body(node.orelse)

    def s_With(self, node: ast.With) -> None:
        for item in node.items:
            self.expr(item.context_expr)
            if item.optional_vars is not None:
                self.bind_target(item.optional_vars)
        self.body(node.body)

    def s_Try(self, node: ast.Try) -> None:
        self.body(node.body)
        for h in node.handlers:
            if h.type is not None:
                self.classref(h.type)
            if h.name:
                self.bind_name(h.name, h)
            self.body(h.body)
        self.body(node.orelse)
        self.body(node.finalbody)

    s_TryStar = s_Try

    def s_Match(self, node: ast.Match) -> None:
        self.expr(node.subject)
        for case in node.cases:
            self.pattern(case.pattern)
            self.expr(case.guard)
            self.body(case.body)

    def pattern(self, p: ast.pattern) -> None:
        if isinstance(p, ast.MatchValue):
            self.expr(p.value)
        elif isinstance(p, ast.MatchSingleton):
            return
        elif isinstance(p, (ast.MatchSequence, ast.MatchOr)):
            for sub in p.patterns:
                self.pattern(sub)
        elif isinstance(p, ast.MatchMapping):
            for k in p.keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.startswith("__"):
                    self.refuse(k, M.dunder_key(k.value))
                self.expr(k)
            for sub in p.patterns:
                self.pattern(sub)
            if p.rest:
                self.bind_name(p.rest, p)
        elif isinstance(p, ast.MatchClass):
            cls = self.expr(p.cls, CLASSREF)
            # `case C(x=...)` reads attribute x of the subject: the rules of `subject.x`
            exact = cls.kind == V.OWN_CLASS and cls.obj != "mixed"  # else maybe another class at run time
            receiver = V.Value(V.TRUSTED, "", None, cls.family) if exact else V.UNKNOWN_VALUE
            for attr in p.kwd_attrs:
                if introspective(attr):
                    self.refuse(p, M.introspection(attr))
                elif attr in FORMAT_METHODS:  # the subject is no written-out template the gate can read
                    self.refuse(p, M.format_fields())
                else:  # what a keyword pattern reads is bound or compared: a value (never a guarded class)
                    self.allowed_use(p, self.member(p, receiver, attr, V.VALUE), V.VALUE)
            for sub in [*p.patterns, *p.kwd_patterns]:
                self.pattern(sub)
        elif isinstance(p, ast.MatchStar):
            if p.name:
                self.bind_name(p.name, p)
        elif isinstance(p, ast.MatchAs):
            if p.pattern is not None:
                self.pattern(p.pattern)
            if p.name:
                self.bind_name(p.name, p)
        else:
            self.refuse(p, M.construct(p))

    # -- imports
    def class_body_import(self, node: ast.stmt) -> bool:
        """An import in a class body makes the module a class attribute, which the gate does not follow."""
        if self.class_stack and self.in_class_body():
            self.refuse(node, M.class_import())
            return True
        return False

    def s_Import(self, node: ast.Import) -> None:
        self.class_body_import(node)
        for alias in node.names:
            self.bind_name(alias.asname or alias.name.split(".")[0], node)
            if not (self.index.importable(alias.name) and self.index.importable(alias.name.split(".")[0])):
                self.refuse(node, M.imported(self.policy, alias.name))

    def s_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.class_body_import(node)
        if node.level:
            self.refuse(node, M.relative_import())
            return
        if module == "__future__":
            for alias in node.names:  # `from __future__ import annotations as __name__` binds a name too
                self.bind_name(alias.asname or alias.name, node)
            return
        if not self.index.importable(module):
            self.refuse(node, M.imported(self.policy, module))
            return
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, M.star_import(module))
                continue
            self.bind_name(alias.asname or alias.name, node)
            m = self.index.member(module, alias.name)
            if m is None:
                self.refuse(node, M.not_listed(self.policy, f"{module}.{alias.name}",
                                               f"from {module} import {alias.name}"))
            elif not m.module:
                self.known_shortcut(node, m.obj, m.qualified, f"{module}.{alias.name}")

    # -- definitions
    def arguments_of(self, args: ast.arguments) -> None:
        self.exprs([*args.defaults, *(d for d in args.kw_defaults if d is not None)])
        for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]:
            if a is not None:
                self.expr(a.annotation, CLASSREF)  # an annotation names classes: its own may be there
                self.bind_name(a.arg, a)

    def s_FunctionDef(self, node: ast.FunctionDef) -> None:
        if getattr(node, "type_params", None):
            self.refuse(node, M.construct(node))
        if node.name.startswith("__") and node.name.endswith("__"):
            if not (self.class_stack and self.in_class_body() and node.name in ALLOWED_DUNDER_DEFS):
                self.refuse(node, M.dunder_def(node.name))
        else:
            self.bind_name(node.name, node)
        for deco in node.decorator_list:  # a bare one is called with the function: a listed class may be one
            v = self.expr(deco, V.DECORATOR if isinstance(deco, (ast.Name, ast.Attribute)) else V.VALUE)
            if v.kind == V.BUILTIN and v.name in DESCRIPTORS and not (self.class_stack and self.in_class_body()):
                self.refuse(deco, M.descriptor(v.name))  # a def outside a class, assigned into one later
        self.arguments_of(node.args)
        self.expr(node.returns, CLASSREF)
        saved = self.helper
        if not self.class_stack and not self.depth and self.task_of(node.name) is None:
            self.helper = node.lineno
        with self.owned_by(node.name), self.function(node):
            self.body(node.body)
        self.helper = saved

    def s_ClassDef(self, node: ast.ClassDef) -> None:
        if getattr(node, "type_params", None):
            self.refuse(node, M.construct(node))
        self.bind_name(node.name, node)
        if (self.class_stack and self.in_class_body() and self.classes.family(self.classes.family_of(node)).guarded
                and (node.name in self.index.attributes or node.name in self.index.handed)):
            # `[Outer][0].apply` reads a listed name on an object the gate cannot type: that must never be
            # a class whose methods trust their first argument
            self.refuse(node, M.nested_listed(node.name))
        if node.keywords:
            self.refuse(node, M.class_keywords())
            self.exprs([k.value for k in node.keywords])
        for base in node.bases:
            self.base_class(base, node)
        for deco in node.decorator_list:
            value = self.expr(deco.func if isinstance(deco, ast.Call) else deco, V.CALLEE)
            if isinstance(deco, ast.Call):
                self.arguments(deco)
            # The class's name is bound to whatever the decorator returns, and the gate keeps treating it
            # as this class (its own attributes readable): only a decorator that returns the class itself.
            if not (value.kind == V.KNOWN and value.name in CLASS_DECORATORS
                    and not (isinstance(deco, ast.Call) and deco.args)):
                self.refuse(deco, M.decorator(self.shown(deco, whole=True)))
        self.class_stack.append(node)
        self._class_depth.append(self.depth)
        with self.owned_by(node.name):
            self.body(node.body)
        self._class_depth.pop()
        self.class_stack.pop()
