"""Shortcuts: torch's own version of what a task implements, by any alias, and autograd.

A shortcut is not an escape: it cannot reach the process, it only does a Function's work for it.
It costs that Function its compliance credit and the credit the registry gates on compliance
(``Task.forbidden`` lists the built-ins by ``__name__``; every alias that computes the same thing
maps to one canonical name here). The same names match the child's aten-level recorder.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable

from course_nn.grading.review.scopes import Scopes, is_main_guard
from course_nn.grading.review.source import walk
from course_nn.registry import Task
from course_nn.registry.hw1 import AUTOGRAD  # autograd's entry points, named once

# torch.nn classes that are a task's built-in under another name.
NN_CLASSES = {"sigmoid": "sigmoid", "relu": "relu", "linear": "linear", "crossentropyloss": "cross_entropy",
              "mseloss": "mse_loss", "logsoftmax": "log_softmax", "softmax": "softmax"}
# Names whose spelling hides what they compute (aten kernels and aliases).
ALIASES = {"expit": "sigmoid", "special_expit": "sigmoid", "_softmax": "softmax", "_log_softmax": "log_softmax",
           "nll_loss_forward": "nll_loss", "nll_loss2d_forward": "nll_loss", "cross_entropy_loss": "cross_entropy",
           "special_log_softmax": "log_softmax", "special_softmax": "softmax", "mse_loss_forward": "mse_loss",
           "softmin": "softmax", "elu": "relu", "celu": "relu", "selu": "relu", "glu": "sigmoid",
           "hardsigmoid": "sigmoid", "log_sigmoid": "logsigmoid", "log_sigmoid_forward": "logsigmoid"}
# Tensor methods that are autograd (hw1: a Function may not differentiate itself).
AUTOGRAD_METHODS = frozenset({"backward", "requires_grad_", "retain_grad"})
AUTOGRAD_CALLABLES = frozenset({"torch.autograd.grad", "torch.autograd.backward", "torch.enable_grad",
                                "torch.set_grad_enabled"})


@functools.lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """torch op name as the registry spells it: ``aten._log_softmax`` -> ``log_softmax``, ``relu_`` -> ``relu``."""
    name = name.rsplit(".", 1)[-1] if name.startswith("aten.") else name
    name = ALIASES.get(name, name)
    if not name.startswith("__"):  # F.threshold is the Python function _threshold
        name = name.strip("_")
    return ALIASES.get(name, name.removeprefix("special_"))


def ops_of(obj: object, listed: str) -> set[str]:
    """What a resolved callable or torch.nn class computes (canonical names): by its ``__name__``
    (``F.logsigmoid`` is ``log_sigmoid``) and by the name the policy lists it under."""
    short = listed.rsplit(".", 1)[-1]
    if isinstance(obj, type):
        module = str(getattr(obj, "__module__", ""))
        return {NN_CLASSES.get(obj.__name__.lower(), "")} - {""} if module.startswith("torch.nn") else set()
    return {canonical(str(getattr(obj, "__name__", "") or short)), canonical(short)}


def own_ops(task: Task) -> frozenset[str]:
    return frozenset(canonical(n) for n in task.forbidden)


def recorded(ops: Iterable[str]) -> frozenset[str]:
    """What a task's runs recorded, as canonical op names (the recorders' own marks left out)."""
    return frozenset(canonical(op) for op in ops if not op.startswith("recorder:"))


def banned_at_runtime(task: Task, every: frozenset[str] = frozenset()) -> frozenset[str]:
    """What a Function may not run: its own built-ins and ``every`` other the assignment lists
    (canonical), since a built-in costs the Function that computes with it (softmax over (z, 0) is a
    sigmoid) and the recorder knows which Function ran it wherever the code is written."""
    return (own_ops(task) | every) - AUTOGRAD


def runtime_shortcuts(task: Task, ops: set[str], every: frozenset[str] = frozenset()) -> list[str]:
    """Forbidden built-ins the child's dispatch recorder saw, matched at the aten level (every alias)."""
    hits = sorted(recorded(ops) & banned_at_runtime(task, every))
    broken = sorted(op.split(":", 1)[1] for op in ops if op.startswith("recorder:"))
    return [f"{task.name} ran torch's own `{op}` (seen at the aten level): compute it from primitives instead"
            for op in hits] + [f"{task.name}: the grader could not watch your Function ({why}) — a graded "
                               "Function may only compute its result" for why in broken]


# Methods of a Function that autograd calls (the only ways a task's own code runs a helper for it).
PROTOCOL = frozenset({"forward", "backward", "setup_context", "jvp", "vjp"})
FORWARD = frozenset({"forward", "setup_context"})
Reach = dict[str, bool]  # task -> whether a call path starts in its forward


def helper_reach(tree: ast.Module, scopes: Scopes, resolver, task_of, called: set[int]) -> dict[int, Reach | None]:
    """Which tasks' code runs each module-level helper function (keyed by its ``def`` line), following
    helpers that call helpers; None when the gate cannot list every caller.

    A built-in in a helper does the work of whichever Function calls it, so its shortcut is charged
    to those tasks (any built-in of the assignment, as inside the class), not to the task whose list
    names it. The callers are known only when every use of the helper's name is a direct call
    ``helper(...)`` written in a task's forward/backward (or a task function, hw2), or in another
    helper: a helper passed, stored or called from module level, a class body or another class could
    run under any task, and then the rule for module-level lines holds (verdict.py).
    """
    skipped = {id(n) for stmt in tree.body if isinstance(stmt, ast.If) and is_main_guard(stmt)
               for part in stmt.body for n in walk(part)}  # never runs under grading (nor has scopes)
    helpers = {id(n): n for n in walk(tree) if isinstance(n, ast.FunctionDef) and id(n) not in skipped
               and getattr(scopes.opened.get(id(n)), "parent", None) is scopes.module and task_of(n.name) is None}
    direct: dict[int, Reach] = {h: {} for h in helpers}
    callees: dict[int, set[int]] = {h: set() for h in helpers}  # helper -> the helpers it calls
    unknown: set[int] = set()
    for node in walk(tree):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load) or id(node) in skipped:
            continue
        targets = [id(b.node) for b in resolver.lookup(node)[0] if b.kind == "def" and id(b.node) in helpers]
        if not targets:
            continue
        site = _site(scopes.scope_of(node), scopes, helpers, task_of) if id(node) in called else None
        for h in targets:
            if site is None:
                unknown.add(h)
            elif isinstance(site, int):
                callees[site].add(h)
            else:
                direct[h][site[0]] = direct[h].get(site[0], False) or site[1]
    unknown |= {h for h, n in helpers.items() if n.decorator_list}  # the name may not be the def any more
    reach: dict[int, Reach | None] = {h: None if h in unknown else dict(direct[h]) for h in helpers}
    todo = list(helpers)  # what a helper's callers reach, it reaches: each set only grows (linear time)
    while todo:
        g = todo.pop()
        todo += [h for h in callees[g] if _grow(reach, h, reach[g])]
    # no caller found: reached some way no name shows (a decorator's registry, a stored reference)
    return {helpers[h].lineno: r or None for h, r in reach.items()}


def _grow(reach: dict[int, Reach | None], h: int, more: Reach | None) -> bool:
    """Add a caller's reach to helper ``h``'s; whether it changed (None: some caller is unknown)."""
    now = reach[h]
    if now is None:
        return False
    if more is None:
        reach[h] = None
        return True
    grown = False
    for task, fwd in more.items():
        if task not in now or (fwd and not now[task]):
            now[task] = now.get(task, False) or fwd
            grown = True
    return grown


def _site(scope, scopes: Scopes, helpers: dict, task_of) -> tuple[str, bool] | int | None:
    """Where a direct call is written: (task, in its forward), a helper (its id), or None (unknown)."""
    chain = []
    while scope is not None and scope is not scopes.module:
        chain.append(scope)
        scope = scope.parent
    if not chain:
        return None  # module level
    top = chain[-1]
    if id(top.node) in helpers:
        return id(top.node)
    if top.kind == "function":  # hw2: a task written as a function
        task = task_of(top.node.name)
        return (task, False) if task is not None else None
    if top.kind != "class" or len(chain) < 2 or chain[-2].kind != "function":
        return None  # a class body, a lambda or comprehension at module level
    task, method = task_of(top.node.name), chain[-2].node.name
    if task is None or method not in PROTOCOL:
        return None  # another class, or a method any code might call
    return task, method in FORWARD
