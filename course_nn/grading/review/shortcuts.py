"""Shortcuts: torch's own version of what a task implements, by any alias, and autograd.

A shortcut is not an escape: it cannot reach the process, it only does a Function's work for it.
It costs that Function its compliance credit and the credit the registry gates on compliance
(``Task.forbidden`` lists the built-ins by ``__name__``; every alias that computes the same thing
maps to one canonical name here). The same names match the child's aten-level recorder.
"""

from __future__ import annotations

import functools

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


def runtime_shortcuts(task: Task, ops: set[str]) -> list[str]:
    """Forbidden built-ins the child's dispatch recorder saw, matched at the aten level (every alias)."""
    forbidden = own_ops(task)
    hits = sorted({canonical(op) for op in ops if not op.startswith("recorder:")} & (forbidden - AUTOGRAD))
    broken = sorted(op.split(":", 1)[1] for op in ops if op.startswith("recorder:"))
    return [f"{task.name} ran torch's own `{op}` (seen at the aten level): compute it from primitives instead"
            for op in hits] + [f"{task.name}: the grader could not watch your Function ({why}) — a graded "
                               "Function may only compute its result" for why in broken]
