"""Every rule's words for a student: what is wrong with the line and what to write instead.

Messages name the construct and point at the handout's list ("What your file may use" in
README.md), never at the grader's internals.
"""

from __future__ import annotations

import ast

from course_nn.registry.policy import Policy, Refusal

LIST = "README.md, \"What your file may use\""
MATH = "the listed functions (exp, log, where, clamp, sum, matmul, ...)"


def refusal(policy: Policy, *names: str) -> Refusal | None:
    """The refusal the registry writes for any of ``names`` (a module, a qualified name, ``.attr``)."""
    for r in policy.refusals:
        for name in names:
            if name in r.names or any(name.startswith(n + ".") for n in r.names if not n.startswith(".")):
                return r
    return None


def _with_refusal(policy: Policy, names: tuple[str, ...], fallback: str) -> str:
    r = refusal(policy, *names)
    return f"{r.reason}; {r.instead}" if r else fallback


def imported(policy: Policy, module: str) -> str:
    allowed = ", ".join(m for m in policy.imports if m != "__future__" and "." not in m)
    why = _with_refusal(policy, (module,), "a graded file needs none of it; delete the import")
    return f"`{module}` is not a module a graded file may import: {why}. Allowed: {allowed} ({LIST})"


def relative_import() -> str:
    return "a graded file is uploaded alone: it may not import other files of yours (move the code into this file)"


def class_import() -> str:
    return "an import inside a class body makes the module an attribute of the class: import at the top of the file"


def star_import(module: str) -> str:
    return f"`from {module} import *` hides which names the file uses: import the names you need one by one"


def not_listed(policy: Policy, qualified: str, shown: str) -> str:
    why = _with_refusal(policy, (qualified,), f"it is not on the list of what a graded file may use ({LIST}); "
                                             f"compute it from {MATH}")
    return f"`{shown}`{'' if shown == qualified else f' ({qualified})'}: {why}"


def attribute(policy: Policy, attr: str, own: bool) -> str:
    if own:
        return (f"`.{attr}` is an attribute your file sets on its own objects: read it as `self.{attr}` (or "
                f"`ctx.{attr}`) inside a method of the class that sets it — on anything else only the listed "
                f"attributes of tensors, arrays, Modules, ctx and plain values may be used ({LIST}), since the "
                "grader cannot tell your object from a tensor or array with an attribute of that name; to hand "
                "data around, keep it in a tuple, list or dict (`layer[0]`, `layer[\"weight\"]`)")
    why = _with_refusal(policy, (f".{attr}",), "it is not one of the listed attributes of tensors, arrays, "
                                               f"Modules, autograd's ctx and plain Python values ({LIST})")
    if attr.endswith("_") and not attr.startswith("_"):
        why += ("; an in-place method is listed only where its out-of-place form is a listed tensor method: "
                "compute the value with listed functions and assign it (`y = ...`)")
    return f"`.{attr}`: {why}"


def introspection(name: str) -> str:
    return (f"`{name}` reaches the interpreter's own objects (frames, code, generators, tracebacks or "
            "double-underscore internals): no graded file may use such a name, however it is written")


def dunder_binding(name: str) -> str:
    return f"`{name}` may not be bound in a graded file (double-underscore names belong to the interpreter)"


def module_value(path: str) -> str:
    return (f"the module `{path}` may only be used to reach a listed name (`{path}.exp(x)`), not assigned, "
            "passed, returned or stored: import the names you need instead")


def module_rebound(name: str, module: str) -> str:
    return (f"`{name}` names the module `{module}` (imported) and is bound here too: a module's name may only be "
            "bound by its import — pick another name for this value")


def builtin(policy: Policy, name: str) -> str:
    why = _with_refusal(policy, (name,), f"it is not one of the built-ins a graded file may use ({LIST})")
    return f"`{name}`: {why}"


def builtin_rebound(name: str) -> str:
    return (f"`{name}` is a built-in a graded file may not use, and code here could reach it before your "
            "binding runs: pick another name")


def special_rebound(name: str) -> str:
    return (f"`{name}` is bound in this file and is also Python's `{name}` where that binding has not run (or "
            "was skipped): pick another name for your value")


def dynamic_name(policy: Policy) -> str:
    handed = ", ".join(policy.handed)
    pick = (f"; to pick one of the given Functions by name, spell the name out: `getattr(functions, NAME)` with "
            f"NAME one of {handed} written in the file (a string, a dict of strings, `\"ReLU\" if a else "
            f"\"Sigmoid\"`)") if handed else ""
    return ("`getattr`/`setattr`/`hasattr` with a name the gate cannot read: use `self.name` directly, or "
            "`getattr(self, f\"weight_{d}\")` for numbered attributes your own class sets with "
            f"`setattr(self, f\"weight_{{d}}\", ...)`{pick}")


def builtin_as_value(name: str) -> str:
    return f"`{name}` may only be called directly (`{name}(x, ...)`), not passed or stored"


def descriptor(name: str) -> str:
    return (f"`{name}` may only decorate a method where its class defines it (`@{name}` above the `def` in the "
            f"class body): called, passed or put above another function, it hands the class to code the grader "
            f"cannot check")


def base_unnamed(base: str) -> str:
    return (f"`{base}` as a base class: name your own base class itself (`Base`, or `Outer.Inner` for a class "
            f"defined in a class body), not through an object, a parameter or `cls`")


def type_call(args: int) -> str:
    if args == 3:
        return "`type(name, bases, dict)` builds a class from a dictionary: write a `class` statement instead"
    return ("`type(x)` may only be compared with `is` (`type(x) is int`) or with `==` to a class; use "
            "`isinstance(x, ...)` for anything else")


def format_fields() -> str:
    return ("`.format`/`.format_map` with a field that reads attributes or items (`{0.x}`, `{0[k]}`), or on a "
            "string that is not written out, can reach any attribute: use an f-string (`f\"{x.shape}\"`)")


def own_method(cls: str, name: str) -> str:
    return (f"`{cls}.{name}` may only be called with the caller's own `self`/`ctx` first "
            f"(`{cls}.{name}(self, ...)`): call it on an instance (`obj.{name}(...)`) or through `.apply`")


def class_body_method(name: str) -> str:
    return (f"a class body may not use its method `{name}` as a value (it could then run on another object "
            f"than `self`): call it on an instance, `self.{name}(...)`")


def alias_chain(name: str) -> str:
    return (f"`{name}` is itself another name for a class: name the class directly (`Square = MulSelf`, not "
            "an alias of an alias)")


def unbound(shown: str, attr: str) -> str:
    return (f"`{shown}` is a method taken from its class, which runs on whatever object is passed first: "
            f"call it on the object itself (`x.{attr}(...)`)")


def own_class_value(cls: str) -> str:
    return (f"the class `{cls}` may be called, subclassed or named in `isinstance`, but not passed or stored "
            "(its methods could then run on another object)")


def listed_class_value(cls: str, method: str) -> str:
    return (f"the class `{cls}` may be called, subclassed or named in `isinstance`, but not passed, stored, "
            f"returned or given another name: held as a value, its methods (`.{method}`) run on whatever object "
            f"is passed first — write `{cls.rpartition('.')[2]}` out where you use it")


def raw_constructor(cls: str) -> str:
    return (f"`{cls}(...)` lays an array over any memory buffer with any dtype, so it can forge objects: make arrays "
            "with numpy.zeros, numpy.asarray or numpy.array instead; `ndarray` may only be named in `isinstance`, "
            "annotations and `case` patterns")


def class_factory(cls: str) -> str:
    return (f"`return {cls}`: define each Function as a class at module level (`class Square(Function): ...`); "
            "a function that returns a class is outside what the grader can check")


def function_instance(cls: str) -> str:
    return f"`{cls}(...)`: a torch.autograd.Function is used through `{cls}.apply(...)`, never instantiated"


def base_class(shown: str) -> str:
    return (f"`{shown}` may not be a base class: a graded class derives from torch.autograd.Function, "
            "torch.nn.Module, object, an exception or a class of this file (not from a tensor or an array, and "
            "not from a value computed at run time)")


def base_constructs(shown: str) -> str:
    return (f"`{shown}` may not be a base class: calling a class derived from it may return another object "
            "(a numpy scalar type given an array returns the array), so the file could not rely on what its own "
            "class makes; derive from object and keep the value in an attribute (`self.value = np.float64(x)`)")


def base_beside_module(shown: str) -> str:
    return (f"`{shown}` may not be a base class of a torch.nn.Module: a module that is also something else (a "
            "dict, a list, a number, a deque) is two things at once; derive from torch.nn.Module (and classes of "
            "this file) alone and keep the value in an attribute (`self.table = {}`)")


def class_keywords() -> str:
    return "class keywords (`metaclass=`, ...) change how Python builds the class: not allowed in a graded file"


def decorator(shown: str) -> str:
    return (f"`@{shown}` on a class replaces the class with whatever the decorator returns: only "
            "`@dataclass` (or `@dataclass(frozen=True, ...)`) may decorate a class")


def nested_rebound(name: str) -> str:
    return (f"`{name}` names a class with methods defined in a class body, and may be bound another way too "
            "(a store, another statement of its classes, or an attribute its torch base class serves to a class "
            "that lacks it): give the class and the other value different names, or define the class at "
            "module level")


def nested_listed(name: str) -> str:
    return (f"a class with methods defined in a class body may not be called `{name}`, a name any object's "
            "attribute may have: rename it, or define it at the top level of the file")


def dunder_def(name: str) -> str:
    return f"defining `{name}` is not allowed (it changes how Python or torch treat your objects)"


def store(attr: str) -> str:
    return (f"`.{attr} = ...`: a graded file may set attributes only on its own `self`/`ctx` (and `.grad`, "
            "`.data`, `.requires_grad` of a tensor), never on torch, numpy or other modules' objects")


def dunder_key(key: str) -> str:
    return f"`{key!r}`: double-underscore keys are not allowed in a graded file"


def super_use() -> str:
    return ("`super()` may only be called as `super().method(...)` in a method of your class that takes `self`, "
            "or as `super(ThisClass, self)`")


def construct(node: ast.AST) -> str:
    name = type(node).__name__
    words = {"AsyncFunctionDef": "`async def`", "Await": "`await`", "AsyncFor": "`async for`",
             "AsyncWith": "`async with`", "TypeAlias": "a `type` statement"}.get(name, f"this construct ({name})")
    return f"{words} is not part of the Python a graded file may use ({LIST})"


def shortcut(shown: str, op: str) -> str:
    return f"`{shown}` is torch's own `{op}`: compute it from primitives (exp, log, sum, mm, where, ...) instead"


AUTOGRAD_RULE = "no autograd inside a Function: derive the gradient by hand from saved tensors"
