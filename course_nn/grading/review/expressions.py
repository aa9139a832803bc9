"""The gate's rules for expressions: names, attributes, calls, and everything that nests them.

Each ``e_<Node>`` method checks one construct and returns what the gate knows of its value
(values.py). A node type without a method is not part of the language and is refused.
"""

from __future__ import annotations

import ast
import types

from course_nn.grading.review import messages as M
from course_nn.grading.review import values as V
from course_nn.grading.review.classes import constant_prefix, registered_name
from course_nn.grading.review.dynamic import FORMAT_METHODS
from course_nn.grading.review.index import introspective
from course_nn.grading.review.shortcuts import AUTOGRAD_CALLABLES, AUTOGRAD_METHODS, canonical, ops_of
from course_nn.grading.review.values import BASE, CALLEE, CLASSREF, DECORATOR, VALUE, Value

SPECIAL_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "type", "super"})
DESCRIPTORS = frozenset({"classmethod"})  # only `@` above a def in its class body: it hands the class on
# Listed calls whose first argument only names a type, and is dropped: a class may go there.
TYPE_FIRST = frozenset({"typing.cast"})


class ExpressionRules:
    # provided by the Gate: policy, index, resolver, classes, refuse(), shortcut(), bind_target(),
    # current_family(), dynamic_call(), safe_format(), function()

    def expr(self, node: ast.AST | None, use: str = VALUE) -> Value:
        if node is None:
            return V.UNKNOWN_VALUE
        handler = getattr(self, "e_" + type(node).__name__, None)
        if handler is None:
            self.refuse(node, M.construct(node))
            return V.UNKNOWN_VALUE
        return handler(node, use)

    def exprs(self, nodes) -> None:
        for n in nodes:
            self.expr(n)

    def allowed_use(self, node: ast.AST, v: Value, use: str) -> Value:
        """Refuse a value used where its kind may not go (a module passed, an own class stored, ...)."""
        if v.kind == V.MODULE and use != BASE:
            self.refuse(node, M.module_value(v.name))
        elif v.kind == V.BUILTIN and (v.name in SPECIAL_BUILTINS and use != CALLEE  # classmethod(f): f's first
                                      or v.name in DESCRIPTORS and use != DECORATOR):  # parameter gets the class
            self.refuse(node, M.descriptor(v.name) if v.name in DESCRIPTORS else M.builtin_as_value(v.name))
        elif v.kind == V.OWN_CLASS and use in (VALUE, DECORATOR) and self.classes.family(v.family).guarded:
            self.refuse(node, M.own_class_value(v.name))
        elif v.kind in (V.KNOWN, V.BUILTIN) and use in (VALUE, CALLEE) and self.index.raw(v.obj):
            self.refuse(node, M.raw_constructor(v.name))  # `numpy.ndarray(..., buffer=b)`: named, never made
        elif v.kind in (V.KNOWN, V.BUILTIN) and use == VALUE and self.index.methods(v.obj):
            # `[FunctionCtx][0].set_materialize_grads`: the class's function run on any object. Never a bare value.
            self.refuse(node, M.listed_class_value(v.name, min(self.index.methods(v.obj))))
        elif v.kind == V.METHOD:
            self.refuse(node, M.class_body_method(v.name))
        elif v.kind == V.SUPER and use != BASE:
            self.refuse(node, M.super_use())
        else:
            return v
        return V.UNKNOWN_VALUE

    # -- names
    def e_Name(self, node: ast.Name, use: str) -> Value:
        if not isinstance(node.ctx, ast.Load):
            self.bind_target(node)
            return V.UNKNOWN_VALUE
        return self.allowed_use(node, self.name_value(node), use)

    def name_value(self, node: ast.Name) -> Value:
        name = node.id
        if introspective(name) and name != "__name__":
            self.refuse(node, M.introspection(name))
            return V.UNKNOWN_VALUE
        found, builtin = self.resolver.lookup(node)
        vals = [self.resolver.binding_value(b) for b in found]
        if builtin:
            bv = self.resolver.builtin_value(name)
            if bv is None:
                self.refuse(node, M.builtin_rebound(name) if found else M.builtin(self.policy, name))
                return V.UNKNOWN_VALUE
            if found and name in SPECIAL_BUILTINS:  # maybe the built-in, maybe not: its call rules must hold
                self.refuse(node, M.special_rebound(name))
                return V.REFUSED_VALUE
            vals.append(bv)
        modules = {v.name for v in vals if v.kind == V.MODULE}
        if modules and (len(modules) > 1 or any(v.kind != V.MODULE for v in vals)):
            self.refuse(node, M.module_rebound(name, sorted(modules)[0]))
            return V.UNKNOWN_VALUE
        return self.resolver.join(vals)

    # -- attributes
    def e_Attribute(self, node: ast.Attribute, use: str) -> Value:
        attr = node.attr
        if attr in FORMAT_METHODS and isinstance(node.ctx, ast.Load):
            if not self.safe_format(node.value):
                self.refuse(node, M.format_fields())
            self.expr(node.value)
            return V.UNKNOWN_VALUE
        if introspective(attr):
            self.refuse(node, M.introspection(f".{attr}"))
            self.expr(node.value, BASE)
            return V.REFUSED_VALUE
        base = self.expr(node.value, BASE)
        if not isinstance(node.ctx, ast.Load):
            self.store(node, base)
            return V.UNKNOWN_VALUE
        return self.allowed_use(node, self.member(node, base, attr, use), use)

    def member(self, node: ast.AST, base: Value, attr: str, use: str, explicit: bool = False) -> Value:
        """``base.attr`` read: what it is, or a refusal."""
        if base.kind == V.REFUSED:
            return V.REFUSED_VALUE
        if base.kind == V.MODULE:
            m = self.index.member(base.name, attr)
            if m is None:
                self.refuse(node, M.not_listed(self.policy, f"{base.name}.{attr}", self.shown(node)))
                return V.REFUSED_VALUE
            if m.module:
                return V.module(m.qualified)
            self.known_shortcut(node, m.obj, m.qualified, self.shown(node))
            return V.known(m.qualified, m.obj)
        if base.kind == V.KNOWN:
            try:
                sub = getattr(base.obj, attr)
            except Exception:  # noqa: BLE001 - a missing attribute fails at run time, like any typo
                sub = None
            listed = self.index.objects.get(id(sub)) if sub is not None else None
            if listed:
                self.known_shortcut(node, sub, listed, self.shown(node))
                return V.known(listed, sub)
            if isinstance(base.obj, type) and isinstance(sub, types.FunctionType):
                self.refuse(node, M.unbound(self.shown(node), attr))  # torch.nn.Module.train(anything): any `self`
                return V.REFUSED_VALUE
            return self.generic(node, attr)
        if base.kind in (V.OWN_CLASS, V.TRUSTED, V.INSTANCE) and base.obj != "mixed":
            nested = self.classes.nested_class(base.family, attr)
            if nested is not None:  # TorchFunctions.Linear, self.Block: a class, with a class's rules
                inner, other = nested
                if not other:
                    return V.Value(V.OWN_CLASS, attr, inner, inner)
                if self.classes.family(inner).guarded:  # maybe that class, maybe something else
                    self.refuse(node, M.nested_rebound(attr))
                    return V.REFUSED_VALUE
        if base.kind == V.OWN_CLASS:
            fam = self.classes.family(base.family)
            if fam is not None and attr in fam.trusted_methods:
                if not explicit:
                    self.refuse(node, M.own_method(base.name, attr))
                return V.UNKNOWN_VALUE
            own_names = self.classes.own_names(fam) if fam is not None and base.obj != "mixed" else set()
            if attr in own_names:
                return V.UNKNOWN_VALUE
            if fam is not None and any(isinstance(getattr(k, attr, None), types.FunctionType) for k in fam.bases):
                self.refuse(node, M.unbound(self.shown(node), attr))  # a listed base's method, through the class: any `self`
                return V.REFUSED_VALUE
            if attr in self.index.attributes:
                return V.UNKNOWN_VALUE
            self.refuse(node, M.attribute(self.policy, attr, False))
            return V.UNKNOWN_VALUE
        if base.kind in (V.TRUSTED, V.INSTANCE):
            fam = self.classes.family(base.family)
            if (attr in self.classes.own_names(fam) or attr in self.index.attributes
                    or any(attr.startswith(p) for p in self.classes.patterns(fam))):
                return V.UNKNOWN_VALUE
            if not attr.startswith("_") and attr not in self.classes.natives(fam):
                return V.UNKNOWN_VALUE  # nothing the object has: an AttributeError at run time (a typo)
            self.refuse(node, M.attribute(self.policy, attr, False))
            return V.UNKNOWN_VALUE
        if base.kind == V.SUPER:  # a method of a base class: listed, or one the file's classes define
            fam = self.current_family()
            if use != CALLEE:
                self.refuse(node, M.super_use())
            elif attr not in self.index.attributes and (fam is None or attr not in self.classes.own_names(fam)):
                self.refuse(node, M.attribute(self.policy, attr, False))
            return V.UNKNOWN_VALUE
        return self.generic(node, attr)

    @staticmethod
    def shown(node: ast.AST, whole: bool = False) -> str:
        """How a message quotes an expression (a call by its callee unless ``whole``). Unparsed only when
        a message needs it: on long attribute chains over a huge literal, unparsing every attribute
        read took quadratic time."""
        text = ast.unparse(node.func if isinstance(node, ast.Call) and not whole else node)
        return text if len(text) <= 80 else text[:77] + "..."

    def generic(self, node: ast.AST, attr: str) -> Value:
        """An attribute of a value the gate cannot type: only the listed names."""
        if attr in self.index.attributes or attr in self.index.handed:
            op = canonical(attr)
            if op in self.all_ops:
                self.shortcut(node, op, f".{attr}")
            elif attr in AUTOGRAD_METHODS:
                self.shortcut(node, "autograd", f".{attr}()")
            return V.UNKNOWN_VALUE
        self.refuse(node, M.attribute(self.policy, attr, attr in self.classes.all_names))
        return V.REFUSED_VALUE

    def known_shortcut(self, node: ast.AST, obj: object, qualified: str, shown: str) -> None:
        if qualified in AUTOGRAD_CALLABLES:
            self.shortcut(node, "autograd", shown)
            return
        for op in sorted(ops_of(obj, qualified) & self.all_ops):
            self.shortcut(node, op, shown)

    def store(self, node: ast.Attribute, base: Value) -> None:
        """``base.attr = ...`` or ``del base.attr``: own receivers, or a tensor's grad/data/requires_grad."""
        if base.kind == V.TRUSTED:
            return
        if base.kind in (V.UNKNOWN, V.BUILTIN) and node.attr in self.index.stores:
            return
        self.refuse(node, M.store(node.attr))

    # -- calls
    def e_Call(self, node: ast.Call, use: str) -> Value:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "__init__":
            self.init_call(node)
            return self.arguments(node)
        if isinstance(func, ast.Name) and isinstance(func.ctx, ast.Load):
            callee = self.name_value(func)
            if callee.kind == V.BUILTIN and callee.name in ("getattr", "setattr", "hasattr"):
                return self.dynamic_call(node, callee.name)
            if callee.kind == V.BUILTIN and callee.name == "type":
                self.refuse(node, M.type_call(len(node.args)))
                return self.arguments(node)
            if callee.kind == V.BUILTIN and callee.name == "super":
                return self.super_call(node)
            if callee.kind == V.BUILTIN and callee.name in ("isinstance", "issubclass") and len(node.args) == 2:
                (self.classref if callee.name == "issubclass" else self.expr)(node.args[0])  # a bool comes back
                self.classref(node.args[1])
                return V.UNKNOWN_VALUE
            callee = self.allowed_use(func, callee, CALLEE)
        elif isinstance(func, ast.Attribute) and not introspective(func.attr) and func.attr not in FORMAT_METHODS:
            base = self.expr(func.value, BASE)
            explicit = self.explicit_receiver(node, base, func.attr)
            callee = self.allowed_use(func, self.member(func, base, func.attr, CALLEE, explicit), CALLEE)
        else:
            callee = self.expr(func, CALLEE)
        if callee.kind == V.KNOWN and callee.name in TYPE_FIRST and node.args:
            self.classref(node.args[0])  # cast(torch.Tensor, x) returns x: the class only names a type
            self.arguments(ast.Call(func, node.args[1:], node.keywords))
        else:
            self.arguments(node)
        if callee.kind == V.OWN_CLASS:
            if self.classes.family(callee.family).function:
                self.refuse(node, M.function_instance(callee.name))
            elif callee.obj != "mixed":
                return V.Value(V.INSTANCE, callee.name, None, callee.family)  # Cfg().scale(2.0)
        return V.UNKNOWN_VALUE

    def arguments(self, node: ast.Call) -> Value:
        name = registered_name(node)  # self.register_buffer(NAME, ...) sets attribute NAME, read through __getattr__
        if name is not None:
            names = self.static_strings(name)
            if names is None:  # computed: its fixed start must rule out `__deepcopy__` and friends
                start = constant_prefix(name)
                names = frozenset({start}) if start[:1].isalpha() else frozenset({"__"})
            for bad in sorted(n for n in names if introspective(n)):
                self.refuse(node, M.introspection(bad if bad != "__" else self.shown(name)))
        self.exprs(node.args)
        for k in node.keywords:
            if k.arg is not None and k.arg.startswith("__"):
                self.refuse(k.value, M.dunder_key(k.arg))
            self.expr(k.value)
        return V.UNKNOWN_VALUE

    def explicit_receiver(self, node: ast.Call, base: Value, attr: str) -> bool:
        """``Cls.method(first, ...)`` / ``super().method(first, ...)`` with a trusted ``first``: the method
        runs on the caller's own receiver. Refused (False) otherwise where the method trusts its first."""
        fam = None
        if base.kind in (V.OWN_CLASS, V.TRUSTED, V.INSTANCE) and base.obj != "mixed":
            nested = self.classes.nested_class(base.family, attr)
            if nested is not None and not nested[1]:
                return False  # TorchFunctions.Linear(...): a class called (member() gives it a class's rules)
        if base.kind == V.OWN_CLASS:
            fam = self.classes.family(base.family)
            if fam is None or attr not in fam.trusted_methods:
                return False
        elif base.kind == V.SUPER:
            fam = self.current_family()
            if fam is None or not fam.function:
                return True  # super().method(...) binds the method to self
        else:
            return False
        first = node.args[0] if node.args else None
        ok = (first is not None and not isinstance(first, ast.Starred)
              and self.classes.compatible(self.classes.receiver(first), fam.fid))
        if not ok:
            self.refuse(node, M.own_method(base.name or "super()", attr))
        return True

    def init_call(self, node: ast.Call) -> None:
        """``super().__init__(...)`` and ``Base.__init__(self, ...)``: the only double-underscore call."""
        base_node = node.func.value  # type: ignore[union-attr]
        if (isinstance(base_node, ast.Call) and isinstance(base_node.func, ast.Name)
                and self.name_value(base_node.func).name == "super"):
            self.super_call(base_node)
            return
        base = self.expr(base_node, CLASSREF)
        first = node.args[0] if node.args else None
        receiver = self.classes.receiver(first) if first is not None else None
        if base.kind == V.OWN_CLASS:
            ok = self.classes.compatible(receiver, base.family)
        else:
            ok = base.kind in (V.KNOWN, V.BUILTIN) and isinstance(base.obj, type) and receiver is not None
        if not ok:
            self.refuse(node, M.introspection(".__init__"))

    def super_call(self, node: ast.Call) -> Value:
        if not node.args and not node.keywords:
            # super() binds to the first argument of the function it is written in: only an instance
            # method's trusted `self` keeps its methods bound (in a classmethod, super().forward is B.forward
            # itself, callable on anything)
            fn = self.functions[-1] if self.functions else None
            fid = self.classes.method_family.get(id(fn))
            if fid is not None and not self.classes.family(fid).function:
                return Value(V.SUPER, "super()")
            self.refuse(node, M.super_use())
            return V.REFUSED_VALUE
        if len(node.args) == 2 and not node.keywords:
            cls = self.expr(node.args[0], CLASSREF)
            if cls.kind == V.OWN_CLASS and self.classes.receiver(node.args[1]) is not None:
                return Value(V.SUPER, "super()")
        self.refuse(node, M.super_use())
        return self.arguments(node)

    def classref(self, node: ast.AST) -> None:
        """A class named where only its identity matters: isinstance, except, raise, a base."""
        if isinstance(node, ast.Tuple):
            for elt in node.elts:
                self.classref(elt)
        else:
            self.expr(node, CLASSREF)

    # -- everything else: visit the parts
    def e_Constant(self, node: ast.Constant, use: str) -> Value:
        return V.UNKNOWN_VALUE

    def e_Compare(self, node: ast.Compare, use: str) -> Value:
        """``type(x) is int``: ``type(x)`` is only ever compared, and only where no object's own method
        receives it — ``is``/``is not``, or ``==``/``!=`` against a class (whose metaclass compares);
        ``type(x) == grab`` would hand the class to ``grab.__eq__``, ``in`` to ``__contains__``."""
        operands = [node.left, *node.comparators]
        typed = [self._type_of(o) for o in operands]
        values: list[Value] = []
        for i, operand in enumerate(operands):
            beside_type = (i > 0 and typed[i - 1]) or (i + 1 < len(operands) and typed[i + 1])
            if typed[i]:
                self.expr(operand.args[0])  # type: ignore[attr-defined]
                values.append(V.UNKNOWN_VALUE)
            else:
                values.append(self.expr(operand, CLASSREF if beside_type else VALUE))
        if any(typed) and len(node.ops) > 1:  # `type(x) != C == grab` compares C with grab too
            self.refuse(node, M.type_call(1))
        for i, op in enumerate(node.ops):
            if not (typed[i] or typed[i + 1]) or isinstance(op, (ast.Is, ast.IsNot)):
                continue
            if isinstance(op, (ast.Eq, ast.NotEq)):
                ok = (typed[i] and typed[i + 1]) or self._a_class(values[i + 1] if typed[i] else values[i])
            else:  # type(x) in (int, float): a written-out tuple or list of classes
                right = operands[i + 1]
                ok = (typed[i] and isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.Tuple, ast.List))
                      and all(self._a_class(self.expr(e, CLASSREF)) for e in right.elts))
            if not ok:
                self.refuse(node, M.type_call(1))
        return V.UNKNOWN_VALUE

    @staticmethod
    def _a_class(v: Value) -> bool:
        return (v.kind == V.OWN_CLASS and v.obj != "mixed") or (v.kind in (V.KNOWN, V.BUILTIN)
                                                                 and isinstance(v.obj, type))

    def _type_of(self, operand: ast.AST) -> bool:
        """Whether ``operand`` is ``type(x)`` (the built-in, one argument)."""
        return (isinstance(operand, ast.Call) and isinstance(operand.func, ast.Name) and len(operand.args) == 1
                and not operand.keywords and not isinstance(operand.args[0], ast.Starred)
                and self.name_value(operand.func).name == "type")

    def e_Subscript(self, node: ast.Subscript, use: str) -> Value:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("__"):
            self.refuse(node, M.dunder_key(key.value))
        inner = CLASSREF if use == CLASSREF else VALUE
        generic = self.expr(node.value, inner)
        # list[MLP], Optional[MLP] in an annotation name MLP; `grab[MLP]` would hand the class to an object's
        # own __getitem__ (a defaultdict keeps it): only a listed generic may receive a class there
        self.expr(key, CLASSREF if inner == CLASSREF and generic.kind in (V.KNOWN, V.BUILTIN) else VALUE)
        return V.UNKNOWN_VALUE

    def e_Dict(self, node: ast.Dict, use: str) -> Value:
        for k in node.keys:
            if isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.startswith("__"):
                self.refuse(k, M.dunder_key(k.value))
        self.exprs([k for k in node.keys if k is not None])
        self.exprs(node.values)
        return V.UNKNOWN_VALUE

    def e_Lambda(self, node: ast.Lambda, use: str) -> Value:
        self.arguments_of(node.args)
        with self.function(node):
            self.expr(node.body)
        return V.UNKNOWN_VALUE

    def comprehension(self, node: ast.AST, parts: list[ast.AST]) -> Value:
        for gen in node.generators:  # type: ignore[attr-defined]
            if gen.is_async:
                self.refuse(node, M.construct(ast.AsyncFor()))
            self.expr(gen.iter)
            self.bind_target(gen.target)
            self.exprs(gen.ifs)
        self.exprs(parts)
        return V.UNKNOWN_VALUE

    def e_ListComp(self, node: ast.ListComp, use: str) -> Value:
        return self.comprehension(node, [node.elt])

    e_SetComp = e_GeneratorExp = e_ListComp

    def e_DictComp(self, node: ast.DictComp, use: str) -> Value:
        return self.comprehension(node, [node.key, node.value])

    def e_NamedExpr(self, node: ast.NamedExpr, use: str) -> Value:
        self.expr(node.value)
        self.bind_target(node.target)
        return V.UNKNOWN_VALUE

    def _parts(self, node: ast.AST, use: str) -> Value:
        # (A, B) and A | None name classes where a class may go; any other operator would hand the class to
        # the other operand's own method (`A + grab` calls grab.__radd__(A))
        union = isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
        inner = CLASSREF if use == CLASSREF and (union or isinstance(node, (ast.Tuple, ast.List))) else VALUE
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, inner)
        return V.UNKNOWN_VALUE

    e_BoolOp = e_BinOp = e_UnaryOp = e_IfExp = e_Set = e_Starred = e_Slice = _parts
    e_JoinedStr = e_FormattedValue = e_Yield = e_YieldFrom = _parts

    def e_Tuple(self, node: ast.Tuple | ast.List, use: str) -> Value:
        if not isinstance(node.ctx, ast.Load):
            self.bind_target(node)
            return V.UNKNOWN_VALUE
        return self._parts(node, use)

    e_List = e_Tuple
