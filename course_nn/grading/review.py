"""The static gate: what a graded file may import and touch, checked on its source before it runs.

Nothing here executes student code. The gate reads the submission's syntax tree in the trusted
parent and answers two questions:

- **escape**: could this code reach the grader's process — its file descriptors, frames, mode
  stacks, the interpreter, the OS? (imports beyond torch and math, private or double-underscore
  attributes, ``getattr``/``eval``/``open``/..., torch attributes that are whole modules such as
  ``torch.os`` or ``torch.ops``, tensor subclasses, dunder hooks). Code that could, could also
  forge any result, so *every* task loses its credit; the message quotes the line and names the
  rule so an honest student can delete a stray ``import sys`` and resubmit.
- **shortcut**: does a Function call torch's own version of what it implements, by any public
  alias (``torch.sigmoid``, ``torch.special.expit``, ``x.sigmoid()``, ``nn.Sigmoid``), or autograd
  (``torch.autograd.grad``, ``.backward()``, ``enable_grad``)? That Function loses its backward and
  compliance credit (and forward credit when the line is inside ``forward``).

Why not RestrictedPython: it rewrites code to call guard hooks *at run time, inside the process
that runs the code* — exactly the boundary a submission can reach. The gate only has to reject
source, and it needs to know torch's module graph (which attribute of torch is a module), which a
generic library does not. The runtime recorders in the child stay, to teach honest students; the
gate is what a submission cannot switch off, because it never runs where the submission runs.
"""

from __future__ import annotations

import ast
import functools
import types
from dataclasses import dataclass, field

from course_nn.registry import Assignment, Task
from course_nn.registry.hw1 import AUTOGRAD  # autograd's entry points, named once

# What a graded file may import (module -> names it may import from it; None: any name, checked
# as attributes). typing's helpers that evaluate strings (get_type_hints) are left out on purpose.
ALLOWED_IMPORTS: dict[str, frozenset[str] | None] = {
    "__future__": None,
    "math": None,
    "torch": None,
    "torch.nn": None,
    "torch.nn.functional": None,
    "torch.autograd": None,
    "torch.autograd.function": None,
    "torch.linalg": None,
    "torch.special": None,
    "typing": frozenset({"Callable", "Iterable", "Sequence", "Optional", "Union", "List", "Tuple", "Dict",
                         "Any", "Mapping", "Iterator", "Literal", "TYPE_CHECKING"}),
    "collections.abc": frozenset({"Callable", "Iterable", "Sequence", "Mapping", "Iterator"}),
}
# Modules that may appear in an attribute chain (torch.nn.functional.linear, torch.linalg.norm).
ALLOWED_MODULES = frozenset({"torch", "torch.nn", "torch.nn.functional", "torch.autograd", "torch.linalg",
                             "torch.special", "torch.fft", "torch.cuda", "math", "torch.nn.init", "torch.random",
                             "torch.testing", "torch.backends", "torch.backends.cudnn", "typing", "collections",
                             "collections.abc", "torch.autograd.function"})
# Modules whose attributes are restricted to a list (typing.get_type_hints evaluates strings as code).
RESTRICTED = {**{k: v for k, v in ALLOWED_IMPORTS.items() if v is not None}, "collections": frozenset({"abc"})}
# Builtins that reach objects by name, run strings as code, or touch files and the interpreter.
BANNED_BUILTINS = frozenset({"getattr", "setattr", "delattr", "vars", "globals", "locals", "eval", "exec",
                             "compile", "__import__", "open", "breakpoint", "input", "exit", "quit", "help",
                             "memoryview", "__builtins__", "__loader__", "__spec__", "__file__"})
# Attribute names that open files, pickles or raw memory whatever object they hang on.
BANNED_ATTRS = frozenset({"save", "load", "from_file", "fromfile", "tofile", "dump", "dumps", "ctypes",
                          "compile", "register_hook", "register_forward_hook", "register_forward_pre_hook",
                          "register_full_backward_hook", "register_backward_hook", "set_default_dtype",
                          "set_default_device", "set_default_tensor_type", "overrides"})
# Dunder names a module may assign (metadata) and dunder attributes a file may read (plain strings).
DUNDER_STORES = frozenset({"__all__", "__version__", "__author__", "__doc__"})
DUNDER_READS = frozenset({"__name__", "__qualname__", "__version__", "__doc__"})
# Double-underscore methods a class may define (everything else changes how Python or torch
# treat an object: __torch_function__, __del__, __getattr__, __init_subclass__, ...).
ALLOWED_DUNDER_DEFS = frozenset({"__init__", "__repr__", "__str__", "__len__", "__getitem__", "__iter__", "__eq__",
                                 "__ne__", "__hash__", "__call__", "__contains__"})
# torch.nn classes that are a task's built-in under another name.
NN_CLASSES = {"sigmoid": "sigmoid", "relu": "relu", "linear": "linear", "crossentropyloss": "cross_entropy",
              "mseloss": "mse_loss", "logsoftmax": "log_softmax", "softmax": "softmax", "relu6": "relu6",
              "hardtanh": "hardtanh", "leakyrelu": "leaky_relu", "silu": "silu", "logsigmoid": "logsigmoid",
              "nllloss": "nll_loss", "threshold": "threshold", "bilinear": "bilinear", "l1loss": "l1_loss",
              "smoothl1loss": "smooth_l1_loss", "huberloss": "huber_loss", "kldivloss": "kl_div",
              "bceloss": "binary_cross_entropy", "bcewithlogitsloss": "binary_cross_entropy_with_logits",
              "softmax2d": "softmax", "softmin": "softmax", "elu": "relu", "celu": "relu", "selu": "relu",
              "glu": "sigmoid", "hardsigmoid": "sigmoid", "gelu": "relu", "mish": "relu", "softplus": "relu"}
# Aliases whose names hide what they compute.
ALIASES = {"expit": "sigmoid", "special_expit": "sigmoid", "_softmax": "softmax", "_log_softmax": "log_softmax",
           "nll_loss_forward": "nll_loss", "nll_loss2d_forward": "nll_loss", "cross_entropy_loss": "cross_entropy",
           "special_log_softmax": "log_softmax", "special_softmax": "softmax", "mse_loss_forward": "mse_loss",
           # built-ins that compute another task's built-in (elu with alpha=0 is relu, glu and softmin hide
           # sigmoid and softmax)
           "softmin": "softmax", "elu": "relu", "celu": "relu", "selu": "relu", "glu": "sigmoid",
           "hardsigmoid": "sigmoid"}
NOT_ORDINARY = ("is not an attribute of a tensor, a Module, ctx or a plain Python value (a graded file may not "
                "walk into other objects)")
AUTOGRAD_RULE = "no autograd inside a Function: derive the gradient by hand from saved tensors"


@functools.lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """torch op name as the registry spells it: ``aten._log_softmax`` -> ``log_softmax``, ``relu_`` -> ``relu``."""
    name = name.rsplit(".", 1)[-1] if name.startswith("aten.") else name
    name = ALIASES.get(name, name)
    if not name.startswith("__"):  # F.threshold is the Python function _threshold
        name = name.strip("_")
    return ALIASES.get(name, name.removeprefix("special_"))


@dataclass(frozen=True)
class Violation:
    line: int
    code: str  # the source line, stripped
    rule: str  # what the rule says, for a student
    escape: bool  # True: the line could reach the grader, so no result of the file can be trusted
    owner: str | None  # the task whose class/function holds the line; None at module level
    in_forward: bool = False
    op: str = ""  # for shortcuts: the built-in it amounts to (canonical name)

    def text(self) -> str:
        return f"line {self.line}: `{self.code}` — {self.rule}"


@dataclass
class Verdict:
    """What the gate found in one file."""

    violations: list[Violation] = field(default_factory=list)
    syntax_error: bool = False

    @property
    def escapes(self) -> list[Violation]:
        return [v for v in self.violations if v.escape]

    def shortcuts(self, task: Task) -> list[Violation]:
        """Shortcut lines that cost ``task``: inside its class, any built-in of the assignment (softmax can
        compute a sigmoid); anywhere else in the file, its own built-ins and autograd (a helper in another
        class or at module level can do its work just as well)."""
        names = {task.name, *task.extra}
        own = {canonical(n) for n in task.forbidden}
        if not own:
            return []
        tasks = self.task_names
        return [v for v in self.violations if not v.escape and (
            (v.owner in names and v.op in self.all_ops | {"autograd"})  # its own class: any built-in, autograd
            or v.op in own  # its own built-in, wherever it is
            or (v.op == "autograd" and v.owner not in tasks))]  # autograd in module-level code or a helper

    all_ops: frozenset[str] = frozenset()
    task_names: frozenset[str] = frozenset()

    def in_forward(self, task: Task, v: Violation) -> bool:
        """Whether ``v`` costs ``task`` its forward credit: inside its forward, or outside its class (then
        nobody can tell which forward it served)."""
        return v.in_forward if v.owner in (task.name, *task.extra) else True


# ----------------------------------------------------------------------------------------------


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _public_name(node: ast.AST) -> bool:
    """A name fixed to something harmless: "bias", or f"weight_{d}" whose fixed prefix no dangerous name
    (a module, a built-in, a file or hook helper) begins with."""
    whole = isinstance(node, ast.Constant)
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value[:1].isalpha()):
        return False
    text = node.value
    if whole:
        return text not in _dangerous_names()
    return len(text) >= 2 and not any(name.startswith(text) for name in _dangerous_names())


@functools.lru_cache(maxsize=1)
def safe_attrs() -> frozenset[str]:
    """Attribute names a file may use on an object the gate cannot resolve: those of tensors, Modules,
    Parameters, autograd's ctx, sizes, dtypes, devices, finfo, generators, exceptions and plain Python
    values — never a frame's, a code object's or a generator's (``gi_frame.f_back`` walks the stack)."""
    import torch

    kinds = [torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch.autograd.function.FunctionCtx,
             torch.autograd.function.BackwardCFunction,
             torch.Size, torch.dtype, torch.device, torch.finfo, torch.iinfo, torch.Generator, list, dict, str, tuple,
             set, frozenset, int, float, complex, bool, slice, range, BaseException, type(None)]
    names = {n for k in kinds for n in dir(k) if not n.startswith("_")}
    names |= {"values", "indices", "U", "S", "Vh", "Q", "R", "L", "eigenvalues", "eigenvectors", "eps", "tiny",
              "max", "min", "bits", "resolution"}  # torch's named results and finfo fields
    return frozenset(names)


def _defined_attrs(tree: ast.AST) -> frozenset[str]:
    """Attribute names the file itself defines: ``self.x = ...``, ``ctx.y = ...``, methods and class attributes."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                for target in getattr(stmt, "targets", [getattr(stmt, "target", None)]):
                    if isinstance(target, ast.Name):
                        found.add(target.id)
    return frozenset(n for n in found if not n.startswith("_"))


@functools.lru_cache(maxsize=1)
def _dangerous_names() -> frozenset[str]:
    """Names that no dynamic lookup may spell, even in part (f"sy{s}")."""
    from course_nn import registry

    forbidden = {canonical(n) for name in registry.ASSIGNMENTS for t in registry.get(name).tasks for n in t.forbidden}
    return _module_attr_names() | BANNED_ATTRS | frozenset(ALIASES) | frozenset(NN_CLASSES) | AUTOGRAD | \
        frozenset(forbidden) | {"special", "functional", "autograd", "func"}


@functools.lru_cache(maxsize=1)
def _module_attr_names() -> frozenset[str]:
    """Attribute names under which torch, math or a tensor hands out a whole module (torch.os, F.importlib).

    Names that are also ordinary tensor, Module or ctx attributes (``grad``, ``cuda``) are left out:
    on an object the gate cannot resolve they mean the ordinary attribute.
    """
    import torch
    import torch.nn.functional as F

    ordinary = set(dir(torch.Tensor)) | set(dir(torch.nn.Module)) | set(dir(torch.autograd.function.FunctionCtx))
    found = set()
    for base in (torch, torch.nn, F, torch.autograd, torch.linalg, torch.special, torch.cuda, torch.Tensor,
                 torch.autograd.Function, torch.nn.Module):
        for name in dir(base):
            try:
                value = getattr(base, name)
            except Exception:  # noqa: BLE001 - a lazy attribute that fails to load is no module
                continue
            if isinstance(value, types.ModuleType) and value.__name__ not in ALLOWED_MODULES:
                found.add(name)
    found |= {"os", "sys", "subprocess", "builtins", "importlib", "gc", "inspect", "threading", "multiprocessing",
              "socket", "signal", "pickle", "marshal", "types", "ops", "library", "utils", "jit", "fx", "hub"}
    return frozenset(found - ordinary)


def _resolve(root: object, attrs: list[str]) -> tuple[object, str | None]:
    """Follow ``attrs`` from ``root`` in the parent; returns (object, first disallowed module path)."""
    obj, path = root, getattr(root, "__name__", "")
    for attr in attrs:
        allowed = RESTRICTED.get(getattr(obj, "__name__", "")) if isinstance(obj, types.ModuleType) else None
        if allowed is not None and attr not in allowed:
            return None, f"{path}.{attr}"
        try:
            obj = getattr(obj, attr)
        except Exception:  # noqa: BLE001 - unknown here: the student's own attribute, or an error at run time
            return None, None
        path = f"{path}.{attr}"
        if isinstance(obj, types.ModuleType) and obj.__name__ not in ALLOWED_MODULES:
            return obj, path
    return obj, None


def _callable_op(obj: object, attr: str) -> str:
    """The op a resolved callable or torch.nn class computes (canonical), or ''."""
    if isinstance(obj, type):
        return NN_CLASSES.get(obj.__name__.lower(), "") if obj.__module__.startswith("torch.nn") else ""
    name = getattr(obj, "__name__", "") or attr
    return canonical(name)


# Banned builtins that a parameter or local may shadow harmlessly (`def forward(ctx, input)`).
SHADOWABLE = frozenset({"input", "help", "exit", "quit", "open", "compile", "memoryview", "breakpoint"})


def _local_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a function binds itself (parameters, assignment targets): there they are never builtins."""
    a = node.args
    names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
    declared: set[str] = set()
    todo: list[ast.AST] = list(node.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            declared |= set(n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
                              ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            todo.extend(ast.iter_child_nodes(n))
    return names - declared


class _Gate(ast.NodeVisitor):
    def __init__(self, source: str, assignment: Assignment):
        import torch

        self.lines = source.splitlines()
        self.assignment = assignment
        self.autograd_allowed = assignment.autograd_allowed
        self.forbidden = frozenset(canonical(n) for t in assignment.tasks for n in t.forbidden)
        self.module_attrs = _module_attr_names()
        self.names: dict[str, object] = {}  # names bound to torch objects (imports and simple aliases)
        self.local_classes: set[str] = set()
        self.owner: str | None = None
        self.in_forward = False
        self.found: list[Violation] = []
        self.bound: list[set[str]] = []  # per enclosing function: names it binds (never the builtin there)
        self.first_params: list[str | None] = []  # per enclosing function: its first parameter, if never rebound
        # hw2's MLP is handed the hw1 Functions as a module-like object: their names are attributes too
        from course_nn import registry

        tasks = {t.name for name in registry.ASSIGNMENTS for t in registry.get(name).tasks}
        self.safe = safe_attrs() | _defined_attrs(ast.parse(source)) | tasks
        self._autograd_objects = {id(o) for o in (torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward,
                                                  torch.enable_grad, torch.set_grad_enabled, torch.autograd.functional)}
        self._tensor = torch.Tensor

    # -- recording
    def flag(self, node: ast.AST, rule: str, escape: bool, op: str = "") -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        v = Violation(line, code[:120], rule, escape, self.owner, self.in_forward, op)
        if v not in self.found:
            self.found.append(v)

    def shortcut(self, node: ast.AST, op: str, shown: str) -> None:
        if op in AUTOGRAD or op == "autograd":
            if not self.autograd_allowed:
                self.flag(node, f"`{shown}` is autograd; {AUTOGRAD_RULE}", False, "autograd")
            return
        if op in self.forbidden:
            self.flag(node, f"`{shown}` is torch's own `{op}`: compute it from primitives "
                            "(exp, log, sum, mm, where, ...) instead", False, op)

    # -- scopes: which task owns a line, and whether it is inside forward
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._dunder_binding(node, node.name)
        self.local_classes.add(node.name)
        for kw in node.keywords:
            if kw.arg == "metaclass":
                self.flag(node, "a metaclass is not allowed in a graded file", True)
        for base in node.bases:
            self.visit(base)
            chain = _dotted(base)
            obj = self._lookup(chain) if chain else None
            if isinstance(obj, type) and issubclass(obj, self._tensor):
                self.flag(node, "subclassing torch.Tensor is not allowed: return plain tensors", True)
        for deco in node.decorator_list:
            self.visit(deco)
        self._in_scope(node, node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name.startswith("__") and node.name.endswith("__") and node.name not in ALLOWED_DUNDER_DEFS:
            self.flag(node, f"defining `{node.name}` is not allowed (it changes how Python or torch treat "
                            "your objects)", True)
        for deco in node.decorator_list:
            self.visit(deco)
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        saved = self.in_forward
        if self.owner is not None and node.name in ("forward", "setup_context"):
            self.in_forward = True
        self.bound.append(_local_names(node))
        params = [*node.args.posonlyargs, *node.args.args]
        first = params[0].arg if params else None
        rebound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        self.first_params.append(first if first not in rebound else None)
        self._in_scope(node, node.body)
        self.first_params.pop()
        self.bound.pop()
        self.in_forward = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def _in_scope(self, node, body) -> None:
        saved = self.owner
        if self.owner is None:
            try:
                self.owner = self.assignment.task(node.name).name
            except KeyError:
                pass
        for stmt in body:
            self.visit(stmt)
        self.owner = saved

    # -- every other way to bind a name: none may bind a dunder (`match "__main__": case __name__:`)
    def visit_alias(self, node: ast.alias) -> None:
        self._dunder_binding(node, node.asname)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._dunder_binding(node, node.name)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self._dunder_binding(node, name)

    visit_Nonlocal = visit_Global

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._dunder_binding(node, node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._dunder_binding(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._dunder_binding(node, node.rest)
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        # `case object(sys=s)` reads attributes by name: the same rules as `.sys`
        for attr in node.kwd_attrs:
            why = "is private" if attr.startswith("_") else (
                "is not allowed in a graded file" if attr in BANNED_ATTRS else self._unresolved_attr_rule(attr))
            if why:
                self.flag(node, f"`{attr}=` in a class pattern reads an attribute that {why}", True)
            elif canonical(attr) in self.forbidden:
                self.shortcut(node, canonical(attr), attr)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("__"):
            self.flag(node, f"`[{key.value!r}]`: double-underscore keys are not allowed in a graded file", True)
        self.generic_visit(node)

    # -- imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.visit(alias)
            if alias.name not in ALLOWED_IMPORTS:
                self.flag(node, f"`import {alias.name}`: a graded file may import only torch and math", True)
                continue
            module = __import__(alias.name, fromlist=["_"] if alias.asname else [])
            if alias.asname:
                self.names[alias.asname] = module
            else:
                self.names[alias.name.split(".")[0]] = __import__(alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        if node.level or mod not in ALLOWED_IMPORTS:
            self.flag(node, f"`from {'.' * node.level}{mod} import ...`: a graded file may import only torch and math",
                      True)
            return
        if mod == "__future__":
            return
        allowed = ALLOWED_IMPORTS[mod]
        module = __import__(mod, fromlist=["_"])
        for alias in node.names:
            self.visit(alias)
            if alias.name == "*" or (allowed is not None and alias.name not in allowed):
                self.flag(node, f"`from {mod} import {alias.name}` is not allowed in a graded file", True)
                continue
            if alias.name.startswith("_"):
                self.flag(node, f"private name `{alias.name}`: a graded file may use only public torch", True)
                continue
            obj, bad = _resolve(module, [alias.name])
            if bad:
                self.flag(node, f"`{bad}` is a module a graded file may not use", True)
                continue
            self.names[alias.asname or alias.name] = obj
            if obj is not None:
                self._check_object(node, obj, alias.name)

    # -- names and attributes
    def _lookup(self, chain: list[str]) -> object:
        root = self.names.get(chain[0])
        if root is None:
            return None
        obj, _bad = _resolve(root, chain[1:])
        return obj

    def _check_object(self, node: ast.AST, obj: object, shown: str) -> None:
        if id(obj) in self._autograd_objects:
            self.shortcut(node, "autograd", shown)
            return
        op = _callable_op(obj, shown.rsplit(".", 1)[-1])
        if op:
            self.shortcut(node, op, shown)

    def visit_If(self, node: ast.If) -> None:
        # `if __name__ == "__main__":` never runs under grading (the module has another name, and
        # __name__ cannot be rebound past the gate): a student's own test code there is not graded.
        test = node.test
        if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
                and {ast.dump(test.left), ast.dump(test.comparators[0])}
                == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}):
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        # getattr(self, f"weight_{d}") — a Module's own numbered layers — is the one dynamic lookup
        # allowed: on self or ctx, with a name that cannot start with "_".
        func = node.func
        if (isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "ctx")
                and self.first_params and node.args[0].id == self.first_params[-1]
                and _public_name(node.args[1])):
            for arg in [*node.args[1:], *node.keywords]:
                self.visit(arg)
            return
        self.generic_visit(node)

    def _dunder_binding(self, node: ast.AST, name: str | None) -> None:
        if name and name.startswith("__") and name not in DUNDER_STORES:
            self.flag(node, f"`{name}` may not be bound in a graded file", True)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load) and node.id.startswith("__"):
            self._dunder_binding(node, node.id)
        elif node.id == "__name__" and not isinstance(node.ctx, ast.Load):
            self.flag(node, "`__name__` may not be changed in a graded file", True)
        elif node.id in SHADOWABLE and any(node.id in b for b in self.bound):
            pass  # a parameter or local such as `input` (PyTorch's own examples use it) is not the builtin
        elif node.id in BANNED_BUILTINS or (node.id.startswith("__") and node.id != "__name__"):
            self.flag(node, f"`{node.id}` is not allowed in a graded file (it can reach the grader's process)", True)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        chain = _dotted(node)
        if attr.startswith("_"):
            legit_init = attr == "__init__" and (
                (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                 and node.value.func.id == "super")
                or (chain is not None and isinstance(self._lookup(chain[:-1]), type)))  # nn.Module.__init__(self)
            own_state = not attr.startswith("__") and isinstance(node.value, ast.Name) and node.value.id in ("ctx", "self")
            plain_read = attr in DUNDER_READS and isinstance(node.ctx, ast.Load)  # type(x).__name__
            if not (legit_init or own_state or plain_read):
                self.flag(node, f"private and double-underscore attributes (`.{attr}`) are not allowed in a graded file",
                          True)
        elif attr in BANNED_ATTRS:
            self.flag(node, f"`.{attr}` is not allowed in a graded file (files, pickles, hooks or global settings)",
                      True)
        if chain and chain[0] in self.names:
            root = self.names[chain[0]]
            obj, bad = _resolve(root, chain[1:])
            if bad:
                self.flag(node, f"`{bad}` is a module a graded file may not use", True)
            elif obj is not None:
                self._check_object(node, obj, ".".join(chain))
                return self.generic_visit(node.value) if not isinstance(node.value, (ast.Name, ast.Attribute)) else None
            return None
        why = self._unresolved_attr_rule(attr)
        if why and not (why == NOT_ORDINARY and self._own_state(node, attr)):
            self.flag(node, f"`.{attr}` {why}", True)
        # x.sigmoid(), logits.softmax(dim=1), x.backward() on objects the gate cannot resolve
        if not (chain and chain[0] in self.local_classes):
            op = canonical(attr)
            if op in self.forbidden:
                self.shortcut(node, op, f".{attr}")
            elif attr in ("backward", "requires_grad_", "retain_grad"):
                self.shortcut(node, "autograd", f".{attr}()")
        self.generic_visit(node)

    def _unresolved_attr_rule(self, attr: str) -> str | None:
        """Why a public attribute name may not be read from an object the gate cannot resolve, or None."""
        if attr in self.module_attrs:
            return "reaches a module a graded file may not use"
        if not attr.startswith("_") and attr not in self.safe:
            return NOT_ORDINARY
        return None

    def _own_state(self, node: ast.Attribute, attr: str) -> bool:
        """``ctx.saved_tensor`` (a typo) on the method's own first parameter fails at run time with a
        teaching message; only a dangerous name there is refused (the method could be called with torch)."""
        return (isinstance(node.value, ast.Name) and bool(self.first_params)
                and node.value.id == self.first_params[-1] and node.value.id in ("self", "ctx")
                and attr not in _dangerous_names())

    def visit_Assign(self, node: ast.Assign) -> None:
        # name = torch.something: follow simple aliases so `F = torch.nn.functional; F.linear` resolves
        self.generic_visit(node)
        chain = _dotted(node.value)
        if chain and chain[0] in self.names:
            obj = self._lookup(chain)
            for target in node.targets:
                if isinstance(target, ast.Name) and obj is not None:
                    self.names[target.id] = obj


def check(source: str, assignment: Assignment) -> Verdict:
    """Run the gate over a submission's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return Verdict(syntax_error=True)  # the import fails in the child and says why
    gate = _Gate(source, assignment)
    gate.visit(tree)
    return Verdict(sorted(gate.found, key=lambda v: v.line), all_ops=gate.forbidden,
                   task_names=frozenset(n for t in assignment.tasks for n in (t.name, *t.extra)))


def runtime_shortcuts(task: Task, ops: set[str]) -> list[str]:
    """Forbidden built-ins the child's dispatch recorder saw, matched at the aten level (every alias)."""
    forbidden = {canonical(n) for n in task.forbidden}
    hits = sorted({canonical(op) for op in ops if not op.startswith("recorder:")} & (forbidden - AUTOGRAD))
    broken = sorted(op.split(":", 1)[1] for op in ops if op.startswith("recorder:"))
    return [f"{task.name} ran torch's own `{op}` (seen at the aten level): compute it from primitives instead"
            for op in hits] + [f"{task.name}: the grader could not watch your Function ({why}) — a graded "
                               "Function may only compute its result" for why in broken]



# ----------------------------------------------------------------------------------------------
# Review flags: constructs worth a look by hand, for instructors only (never scored)

SUSPICIOUS = {
    "torch.autograd.grad": "calls torch.autograd.grad", "torch.autograd.backward": "calls torch.autograd.backward",
    "torch.autograd.functional": "uses torch.autograd.functional", "torch.func": "uses torch.func",
    "functorch": "uses functorch", "enable_grad": "uses enable_grad", "set_grad_enabled": "uses set_grad_enabled",
    "importlib": "uses importlib", "__import__": "calls __import__", "exec": "calls exec", "eval": "calls eval",
    "ctypes": "uses ctypes", "subprocess": "uses subprocess", "os.system": "calls os.system",
    "sys.modules": "touches sys.modules", "builtins": "touches builtins", "atexit": "uses atexit",
    "os._exit": "calls os._exit", "sys.exit": "calls sys.exit", "gc": "uses gc", "inspect": "uses inspect",
    "open": "opens files", "socket": "uses socket", "solutions": "mentions solutions",
}


def _dotted_name(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _flagged(name: str, key: str) -> bool:
    if key == "solutions":  # any mention: an import, an attribute, a path in a string
        return key in name
    return name == key or name.startswith(key + ".")


def review_flags(source: str, assignment: Assignment) -> dict[str, list[str]]:
    """Per task (and "*" for module level): suspicious constructs with their line numbers."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    owners: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            try:
                task = assignment.task(node.name).name
            except KeyError:
                continue
            owners.append((node.lineno, node.end_lineno or node.lineno, task))
    flags: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            names = [mod or ""] + [f"{mod}.{a.name}" if mod else a.name for a in node.names]
        elif isinstance(node, (ast.Attribute, ast.Name)):
            names = [_dotted_name(node)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "solutions" in node.value:
            names = ["solutions"]
        for name in names:
            for key, text in SUSPICIOUS.items():
                if _flagged(name, key):
                    line = getattr(node, "lineno", 0)
                    owner = next((t for a, b, t in owners if a <= line <= b), "*")
                    entry = f"line {line}: {text} (`{name}`)"
                    if entry not in flags.setdefault(owner, []):
                        flags[owner].append(entry)
    return flags


