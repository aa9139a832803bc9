"""The file's own classes: which ``self``/``ctx`` are really its own, and what it assigns on them.

A method's first parameter is a *trusted receiver* when Python itself supplies it: ``self`` of an
ordinary method, ``ctx`` of a ``torch.autograd.Function``'s static methods (``forward`` only when
the class has no ``setup_context``: then ``forward``'s first parameter is an input; a static helper's
only when it uses it as own state, see ``_receives``), provided the method has no decorator but the
listed ones and never rebinds the parameter. The gate keeps that
true by refusing every other way to call such a method with another first argument (see
rules: an own class is never a bare value, ``Cls.method(x)`` needs a trusted ``x``, a Function is
never instantiated, a class body may not name its methods).

A *family* is the file's classes joined by inheritance. On a family's trusted receivers the gate
admits the names the family assigns (``self.weight_1 = ...``, ``ctx.has_bias = ...``,
``setattr(self, f"weight_{d}", ...)``) and defines (methods, class attributes, dataclass
fields) — and nowhere else.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field

from course_nn.grading.review.families import handed_joins, sees, serves
from course_nn.grading.review.resolve import Resolver
from course_nn.grading.review.scopes import Scopes
from course_nn.grading.review.source import walk

# Decorators that only forward a method's arguments: the first one is still the real receiver.
TRUSTED_DECORATORS = ("staticmethod", "classmethod", "property", "torch.autograd.function.once_differentiable",
                      "functools.cache", "functools.lru_cache", "torch.no_grad", "torch.enable_grad",
                      "torch.inference_mode")


DANGEROUS_STARTS = ("f_", "gi_", "cr_", "ag_", "tb_", "co_", "_")
# Module methods that set an attribute by name.
REGISTERS = ("register_parameter", "register_buffer", "add_module", "register_module")
# Builtins that take an object's own state by name (a helper calling them on its first parameter receives).
RECEIVING = ("getattr", "setattr", "hasattr", "delattr", "vars")


@dataclass
class Family:
    fid: int
    classes: list[ast.ClassDef] = field(default_factory=list)
    function: bool = False  # a torch.autograd.Function family
    names: set[str] = field(default_factory=set)  # assigned on trusted receivers, or defined in a class body
    patterns: set[str] = field(default_factory=set)  # setattr(self, f"weight_{d}", ...) -> "weight_"
    values: dict[str, list[ast.AST | None]] = field(default_factory=dict)  # what each name is assigned
    trusted_methods: set[str] = field(default_factory=set)
    setup_context: bool = False
    bases: list[type] = field(default_factory=list)  # the listed Python classes it derives from
    inherited: bool = False  # a listed base has methods a value the gate cannot type may read (Index.methods)

    @property
    def guarded(self) -> bool:
        """Its methods, or its listed bases' (``FunctionCtx.set_materialize_grads``), trust their first
        argument: the class itself must never be a bare value."""
        return bool(self.trusted_methods) or self.function or self.inherited


# A Function's methods that autograd calls with its ctx first.
CTX_METHODS = ("forward", "backward", "setup_context", "jvp", "vjp")


@functools.lru_cache(maxsize=1)
def _function_api() -> frozenset[str]:
    import torch

    return frozenset(dir(torch.autograd.Function))


@functools.lru_cache(maxsize=1)
def _decorator_objects() -> dict[int, str]:
    import builtins
    import importlib

    found = {}
    for path in TRUSTED_DECORATORS:
        module, _, name = path.rpartition(".")
        obj = getattr(importlib.import_module(module) if module else builtins, name, None)
        if obj is not None:
            found[id(obj)] = name
    return found


@functools.cache
def _generated_ctx() -> type:
    """The class torch makes for a Function's ctx (a BackwardCFunction subclass, with `_forward_cls`)."""
    import torch

    class _Probe(torch.autograd.Function):
        pass

    return _Probe._backward_cls


class Classes:
    def __init__(self, tree: ast.Module, scopes: Scopes, resolver: Resolver):
        import torch

        self.scopes, self.resolver = scopes, resolver
        self._merged: dict[int, Family] = {}
        self._natives: dict[int, frozenset[str]] = {}
        self._merged_ids: dict[frozenset[int], int] = {}
        self.defs = [n for n in walk(tree) if isinstance(n, ast.ClassDef)]
        parent = {id(c): i for i, c in enumerate(self.defs)}
        self._union = list(range(len(self.defs)))
        kinds: dict[int, set[str]] = {i: set() for i in range(len(self.defs))}
        bases: dict[int, list[type]] = {i: [] for i in range(len(self.defs))}
        self.own_bases: dict[int, list[ast.ClassDef]] = {id(c): [] for c in self.defs}
        for i, c in enumerate(self.defs):
            for base in c.bases:
                obj = self._static_base(base)
                for own in obj if isinstance(obj, tuple) else (obj,):  # own bases, through aliases
                    if isinstance(own, ast.ClassDef) and id(own) in parent:
                        self._join(i, parent[id(own)])
                        self.own_bases[id(c)].append(own)
                if isinstance(obj, type):
                    bases[i].append(obj)
                    if issubclass(obj, torch.autograd.Function):
                        kinds[i].add("function")
        # setup_context is inherited (forward's first parameter is then an input): per family of bases
        lineage = [self._find(i) for i in range(len(self.defs))]
        with_setup = {lineage[i] for i, c in enumerate(self.defs) if "setup_context" in scopes.opened[id(c)].bindings}
        func = {i for i in range(len(self.defs)) if lineage[i] in {lineage[k] for k, v in kinds.items() if v}}
        for i, j in handed_joins(tree, self.defs, func, resolver, self._static_base):
            if (i in func) == (j in func):  # Functions and other classes never share objects
                self._join(i, j)
        self.families: dict[int, Family] = {}
        self._family_of: dict[int, int] = {}
        self._setup: set[int] = set()  # id(ClassDef) of classes whose forward takes no ctx
        for i, c in enumerate(self.defs):
            fid = self._find(i)
            fam = self.families.setdefault(fid, Family(fid))
            fam.classes.append(c)
            fam.function |= "function" in kinds[i]
            fam.bases += bases[i]
            fam.inherited |= any(resolver.index.methods(b) for b in bases[i])
            self._family_of[id(c)] = fid
            body = scopes.opened[id(c)]
            fam.names |= set(body.bindings)
            if lineage[i] in with_setup:
                fam.setup_context = True
                self._setup.add(id(c))
        self.nested: dict[tuple[int, str], set[int]] = {}  # (family, attribute) -> families of classes there
        # A class statement in a class body is a class attribute only where it binds in that body: after
        # `global Inner` (or `nonlocal`) it binds the module's name, and the class has no attribute `Inner`.
        self.class_attrs = {id(c): {s.name for s in c.body if isinstance(s, ast.ClassDef)
                                    and s.name in scopes.opened[id(c)].bindings} for c in self.defs}
        for c in self.defs:
            for stmt in c.body:
                if isinstance(stmt, ast.ClassDef) and stmt.name in self.class_attrs[id(c)]:
                    self.nested.setdefault((self._family_of[id(c)], stmt.name), set()).add(self._family_of[id(stmt)])
        self.trusted: dict[int, int] = {}  # id(ast.arg) -> family id
        self.cls_params: dict[int, int] = {}
        self.method_family: dict[int, int] = {}  # id(def) -> family id, for methods with a trusted receiver
        for c in self.defs:
            fam = self.families[self._family_of[id(c)]]
            for stmt in c.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._method(stmt, fam, id(c) in self._setup)
        for fam in self.families.values():
            if serves(fam.bases) == "any":  # ParameterList stores what its callers give under names: any name
                fam.patterns.add("")
            for c in fam.classes:
                for stmt in c.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(stmt) in self.method_family:
                        self._assigned(stmt, fam)
        self.tuple_families: dict[int, int] = {}  # id(assignment) -> family of a namedtuple it makes
        for node in walk(tree):
            fields = self._namedtuple(node)
            if fields is not None:
                fid = len(self.defs) + len(self.tuple_families)
                # its fields (renamed or not) hold what the caller passed: every name may be one, so a name bound to
                # it and to an own class never reads that class's nested classes (the nineteenth red-team pass)
                self.families[fid] = Family(fid, names=set(fields), patterns={""}, bases=[tuple])
                self.tuple_families[id(node)] = fid

    @property
    def all_names(self) -> frozenset[str]:
        """Every name any family assigns or defines (for messages: "read it through self")."""
        return frozenset(n for fam in self.families.values() for n in fam.names)

    def _namedtuple(self, node: ast.AST) -> list[str] | None:
        """``Pair = namedtuple("Pair", "first second")`` (or a list of names): the field names."""
        import collections
        import typing

        if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call)):
            return None
        call = node.value
        if self.resolver.static(call.func) not in (collections.namedtuple, typing.NamedTuple) or len(call.args) < 2:
            return None
        spec = call.args[1]
        if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
            return spec.value.replace(",", " ").split()
        if isinstance(spec, (ast.List, ast.Tuple)):
            names = [e.value if isinstance(e, ast.Constant) else
                     e.elts[0].value if isinstance(e, ast.Tuple) and e.elts and isinstance(e.elts[0], ast.Constant)
                     else None for e in spec.elts]
            return [n for n in names if isinstance(n, str)] if all(isinstance(n, str) for n in names) else None
        return None

    def safe_prefix(self, prefix: str, fam: Family) -> bool:
        """A computed attribute name starting with ``prefix`` can only be one the file sets: no
        attribute the family's objects have natively, and no introspection name, begins with it."""
        if not prefix or not prefix[0].isalpha():
            return False
        if any(prefix.startswith(d) or d.startswith(prefix) for d in DANGEROUS_STARTS):
            return False
        return not any(n.startswith(prefix) for n in self.natives(fam))

    def patterns(self, fam: Family) -> frozenset[str]:
        return frozenset(p for p in fam.patterns if self.safe_prefix(p, fam))

    def own_names(self, fam: Family) -> frozenset[str]:
        """What the family assigns or defines, less what its instances have anyway: a name the file
        assigns in one class never exposes a native attribute of another class's instances."""
        return frozenset(fam.names) - self.natives(fam)

    # -- families (union-find over own base classes)
    def _static_base(self, base: ast.expr):
        """What a base names statically: the resolver's answer, or a class defined in an own class's body
        (`Outer.Inner`, bound once there), so that a subclass of it joins its family."""
        obj = self.resolver.static(base)
        if obj is None and isinstance(base, ast.Attribute):
            outer = self._static_base(base.value)
            if isinstance(outer, ast.ClassDef) and len(self.scopes.opened[id(outer)].bindings.get(base.attr, ())) == 1:
                inner = [s for s in outer.body if isinstance(s, ast.ClassDef) and s.name == base.attr]
                return inner[0] if inner else None
        return obj

    def _find(self, i: int) -> int:
        while self._union[i] != i:
            self._union[i] = self._union[self._union[i]]
            i = self._union[i]
        return i

    def _join(self, a: int, b: int) -> None:
        self._union[self._find(a)] = self._find(b)

    def family_of(self, node: ast.ClassDef) -> int:
        return self._family_of.get(id(node), -1)

    def members(self, fid: int) -> frozenset[int]:
        """The families a family id stands for: itself, or those a merged family ("one of these") joins."""
        return next((fids for fids, merged in self._merged_ids.items() if merged == fid), frozenset((fid,)))

    def family(self, fid: int) -> Family | None:
        return self.families.get(fid) or self._merged.get(fid)

    def merge(self, fids: frozenset[int]) -> int:
        """A family standing for "one of these" (a name bound to several own classes): the union of
        their names and methods, guarded if any is."""
        if fids not in self._merged_ids:
            self._merged_ids[fids] = -2 - len(self._merged_ids)
        key = self._merged_ids[fids]
        if key not in self._merged:
            parts = [self.families[f] for f in sorted(fids) if f in self.families]
            m = Family(key, function=any(p.function for p in parts),
                       setup_context=any(p.setup_context for p in parts), inherited=any(p.inherited for p in parts))
            for p in parts:
                m.classes += p.classes
                m.names |= p.names
                m.patterns |= p.patterns
                m.trusted_methods |= p.trusted_methods
                m.bases += p.bases
                for k, vs in p.values.items():
                    m.values.setdefault(k, []).extend(vs)
            self._merged[key] = m
        return key

    def nested_class(self, fid: int, attr: str) -> tuple[int, bool] | None:
        """The family of the class defined as ``attr`` in a class body of family ``fid`` (merged when
        several), and whether ``attr`` may also be something else; None when no class body defines a
        class of that name. A class attribute that is a class stays a class to the gate: exactly that
        class when nothing else can bind the name (another statement in a class body of the family, or
        a store on its receivers), else one of several things, with the strictest rules (never a value)."""
        fam = self.family(fid)
        found: set[int] = set()
        for c in fam.classes if fam else []:
            found |= self.nested.get((self._family_of[id(c)], attr), set())
        if not found:
            return None
        other = (attr in fam.values or any(attr.startswith(p) for p in fam.patterns)
                 or attr in self.natives(fam)  # `_B(StopIteration, _A)(x).value` is x; `ctx._forward_cls`
                 or attr in self.resolver.index.stores  # `x.data = ...` is allowed on any object
                 or attr in self.resolver.index.api_stores  # `self.set_materialize_grads(v)` on a FunctionCtx
                 or any(b.kind != "class" for c in fam.classes for b in self.scopes.opened[id(c)].bindings.get(attr, ()))
                 or serves(fam.bases) == "missing" and not all(sees(c, attr, self.own_bases, self.class_attrs)
                                                                  for c in fam.classes))
        return (next(iter(found)) if len(found) == 1 else self.merge(frozenset(found))), other

    def is_trusted_method(self, node: ast.AST) -> bool:
        return id(node) in self.method_family

    # -- methods
    def _method(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, fam: Family, setup: bool) -> None:
        kinds = []
        for deco in fn.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            # Called with a callable (`lru_cache(f)`, `torch.no_grad(f)`, `staticmethod(f)`), each of these
            # returns a wrapper of *that* callable, which then receives the method: options are constants.
            options = [*deco.args, *(k.value for k in deco.keywords)] if isinstance(deco, ast.Call) else []
            plain = all(isinstance(o, ast.Constant) for o in options)
            kinds.append(_decorator_objects().get(id(self.resolver.static(target))) if plain else None)
        if None in kinds:
            return  # an unlisted decorator receives the function: its first argument is not trusted
        params = [*fn.args.posonlyargs, *fn.args.args]
        if not params:
            return
        first = params[0]
        own = self.scopes.opened[id(fn)].bindings.get(first.arg, [])
        if len(own) != 1:
            return  # rebound in the method (or by a nested nonlocal): no longer the receiver
        if "classmethod" in kinds:
            if "staticmethod" not in kinds:  # classmethod(staticmethod(f)) is f itself (3.9-3.12): any first argument
                self.cls_params[id(first)] = fam.fid
            return
        if fam.function:
            if fn.name == "forward" and setup:
                return  # with setup_context, forward's first parameter is the first input
            if fn.name in _function_api() and fn.name not in CTX_METHODS:
                return  # torch calls it (apply, vmap, ...) with something else first
            if fn.name not in CTX_METHODS and not self._receives(fn, first.arg):
                return  # a helper taking a value (Sigmoid._squash(z)): an ordinary parameter, any caller
        elif "staticmethod" in kinds:
            return
        self.trusted[id(first)] = fam.fid
        self.method_family[id(fn)] = fam.fid
        fam.trusted_methods.add(fn.name)

    def _receives(self, fn: ast.AST, name: str) -> bool:
        """Whether a Function's helper uses its first parameter as own state: ``p.x = ...``, ``p.<unlisted>``,
        ``getattr(p, ...)`` and kin. Trusting it or not is sound either way (trusted, callers must pass
        their own ``ctx``; not, the helper's uses are checked as on any object): this only spares a helper
        that takes a tensor the refusal at its call site."""
        for node in walk(fn):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name
                    and (not isinstance(node.ctx, ast.Load) or node.attr not in self.resolver.index.attributes)):
                return True
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RECEIVING
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == name):
                return True
        return False

    def natives(self, fam: Family) -> frozenset[str]:
        """Attribute names a family's instances have without the file assigning them."""
        from torch.autograd.function import BackwardCFunction

        if fam.fid not in self._natives:
            kinds = [object, *fam.bases] + ([BackwardCFunction, _generated_ctx()] if fam.function else [])
            self._natives[fam.fid] = frozenset(n for k in kinds for n in dir(k))
        return self._natives[fam.fid]

    def compatible(self, receiver: int | None, fid: int) -> bool:
        """May a trusted receiver of family ``receiver`` stand in for one of family ``fid`` (an explicit
        ``Cls.method(self)``)? Only when it has no native attribute the other family's rules would
        not expect: otherwise a name that family assigns could read a native of this object."""
        a, b = self.family(receiver) if receiver is not None else None, self.family(fid)
        return (a is not None and b is not None and receiver in self.members(fid)
                and self.natives(a) <= self.natives(b))

    def receiver(self, node: ast.AST) -> int | None:
        """The family whose trusted receiver ``node`` (a Name) is, or None."""
        if not isinstance(node, ast.Name):
            return None
        b = self.resolver.binding_of(node)
        return self.trusted.get(id(b.node)) if b is not None and b.kind == "param" else None

    def _assigned(self, fn: ast.AST, fam: Family) -> None:
        """Record every attribute ``fn`` stores on a trusted receiver (with the value, when plain)."""
        rhs: dict[int, ast.AST | None] = {}
        for node in walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                rhs[id(node.targets[0])] = node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                rhs[id(node.target)] = node.value
        for node in walk(fn):
            if (isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load)
                    and self.receiver(node.value) == fam.fid):
                fam.names.add(node.attr)
                fam.values.setdefault(node.attr, []).append(rhs.get(id(node)))
            elif isinstance(node, ast.Call):
                key, value = self._named_store(node, fam)
                names = self.resolver.strings(key) if key is not None else None
                if names is not None:  # `setattr(self, "Inner" if c else "x", v)` stores `Inner` too
                    for name in names:
                        fam.names.add(name)
                        fam.values.setdefault(name, []).append(value if isinstance(key, ast.Constant) else None)
                elif key is not None:  # a computed name: any name with its fixed start ("": any name at all)
                    fam.patterns.add(constant_prefix(key))

    def _named_store(self, call: ast.Call, fam: Family) -> tuple[ast.AST | None, ast.AST | None]:
        """``setattr(self, KEY, VALUE)`` or ``self.register_parameter(KEY, VALUE)`` (and buffers, modules):
        (KEY, VALUE when it is the plain value stored) for a trusted receiver of ``fam``."""
        f, args = call.func, call.args
        if (isinstance(f, ast.Name) and f.id == "setattr" and len(args) >= 2
                and self.receiver(args[0]) == fam.fid):
            return args[1], args[2] if len(args) > 2 else None
        if registered_name(call) is not None and self.receiver(f.value) == fam.fid:
            return registered_name(call), None
        return None, None


def registered_name(call: ast.Call) -> ast.expr | None:
    """NAME of ``x.register_buffer(NAME, ...)`` (and parameters, modules), positional or ``name=``; else the
    ``**options`` it may come from, which no rule can list."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in REGISTERS):
        return None
    if call.args:
        return call.args[0]
    named = [k.value for k in call.keywords if k.arg in ("name", None)]
    return named[0] if named else ast.JoinedStr(values=[])


def constant_prefix(node: ast.AST) -> str:
    """The fixed start of a computed string (``weight_`` for f"weight_{d}", "weight_" + str(d),
    "weight_%d" % d and "weight_{}".format(d))."""
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left = node.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return left.value.split("%")[0] if isinstance(node.op, ast.Mod) else left.value
        return constant_prefix(left) if isinstance(node.op, ast.Add) else ""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
        return node.func.value.value.split("{")[0]  # "weight_{}".format(d)
    return ""
