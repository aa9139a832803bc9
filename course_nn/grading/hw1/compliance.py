"""Signs that autograd, a built-in or numerical differentiation did a Function's work."""

from __future__ import annotations

from course_nn.grading.hw1.checks import AUTOGRAD_ERRORS
from course_nn.registry import Task
from course_nn.registry.hw1 import AUTOGRAD


def check_compliance(task: Task, results: list[tuple[dict, dict]]) -> tuple[list[str], bool]:
    """Certain signs that autograd or a built-in did the work (the evadable ones go to review).

    Returns the problems and whether forward itself broke the rules (then forward earns nothing either).
    """
    problems: set[str] = set()
    in_forward = False
    for _case, r in results:
        if r.get("tampered"):
            problems.add(f"{task.name}: your file replaced code the grader or autograd relies on — "
                         "a submission may only define its Functions")
            in_forward = True
        d = r.get("direct")
        if not isinstance(d, dict):
            continue
        ops = set(d.get("ops") or [])
        forward_ops = set(d.get("ops_forward") or [])
        for name in sorted(ops & task.forbidden):
            in_forward |= name in forward_ops
            problems.add(f"{task.name} calls `{name}`, which is not allowed here — "
                         + ("no autograd inside a Function: derive the gradient by hand" if name in AUTOGRAD
                            else f"compute it from primitives (exp, log, sum, mm, where, ...) instead of torch's `{name}`"))
        for op in sorted(o for o in ops if o.startswith("aten.") and o.endswith("_backward")):
            problems.add(f"{task.name}: torch's own backward kernel `{op[5:]}` ran inside your Function — "
                         "write the gradient formula yourself")
        apply = r.get("apply") or {}
        if apply.get("graph_on_ctx"):
            problems.add(f"{task.name}: forward kept an autograd graph on ctx ({', '.join(apply['graph_on_ctx'])}) — "
                         "forward must not record a graph for backward to differentiate")
            in_forward = True
        if (d.get("error_backward") and any(s in d["error_backward"] for s in AUTOGRAD_ERRORS)
                and not apply.get("error")):
            problems.add(f"{task.name}.backward works only inside autograd (it failed when called directly): "
                         "compute the gradient by hand from saved tensors")
    return sorted(problems), in_forward
