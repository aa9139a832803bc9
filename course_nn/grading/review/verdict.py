"""What the gate found in one file: violations, split into escapes and shortcuts."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field

from course_nn.grading.review.shortcuts import canonical
from course_nn.registry import Task


@dataclass(frozen=True)
class Violation:
    line: int
    code: str  # the source line, stripped
    rule: str  # what the rule says, for a student: what is wrong and what to write instead
    escape: bool  # True: the line could reach the grader, so no result of the file can be trusted
    owner: str | None  # the task whose class/function holds the line; None at module level
    in_forward: bool = False
    op: str = ""  # for shortcuts: the built-in it amounts to (canonical name)
    helper: int = 0  # the `def` line of the module-level helper function that holds the line (0: none)

    def text(self) -> str:
        return f"line {self.line}: `{self.code}` — {self.rule}"


@dataclass
class Verdict:
    """What the gate found in one file."""

    violations: list[Violation] = field(default_factory=list)
    syntax_error: bool = False
    all_ops: frozenset[str] = frozenset()
    task_names: frozenset[str] = frozenset()
    reach: dict[int, dict[str, bool] | None] = field(default_factory=dict)  # helper -> tasks that call it

    @property
    def escapes(self) -> list[Violation]:
        return [v for v in self.violations if v.escape]

    def shortcuts(self, task: Task, seen: Mapping[str, Set[str]] | None = None) -> list[Violation]:
        """Shortcut lines that cost ``task``: inside its class, or in a helper function only its own code
        and other such helpers call (shortcuts.helper_reach), any built-in of the assignment (softmax can
        compute a sigmoid). Code the gate cannot tie to tasks (module level, another class, a helper it
        cannot follow) costs every task its built-ins, autograd included, when judged alone; with ``seen``
        (task -> the canonical ops its runs recorded) it costs a task only its own built-ins, and the task
        that ran another's pays through ``shortcuts.runtime_shortcuts`` (any built-in a Function ran)."""
        names = {task.name, *task.extra}
        own = {canonical(n) for n in task.forbidden}
        if not own:
            return []
        every = self.all_ops | {"autograd"}
        charged = []
        for v in self.violations:
            callers = self._callers(v)
            if v.escape:
                continue
            if callers is not None:
                hit = task.name in callers and v.op in every
            elif v.owner in names:
                hit = v.op in every  # its own class: any built-in, autograd
            elif v.op == "autograd":
                hit = v.owner not in self.task_names  # autograd in module-level code
            else:
                hit = self._fallback(task, v, own, seen)
            if hit:
                charged.append(v)
        return charged

    def _fallback(self, task: Task, v: Violation, own: set[str], seen: Mapping[str, Set[str]] | None) -> bool:
        """A built-in in code not tied to ``task``: see ``shortcuts``. The runs' records come from the
        child, where student code runs: they may narrow the charges the gate adds across tasks, never
        lift the one it makes the built-in's own task pay."""
        if v.op in own:
            return True
        return seen is None and v.owner not in self.task_names and v.op in self.all_ops

    def _callers(self, v: Violation) -> dict[str, bool] | None:
        """The tasks whose code runs the helper that holds ``v``, when the gate could list them all."""
        return self.reach.get(v.helper) if v.owner is None and v.helper else None

    def in_forward(self, task: Task, v: Violation) -> bool:
        """Whether ``v`` costs ``task`` its forward credit: inside its forward (or a helper its forward
        calls), or outside its class and such helpers (then nobody can tell which forward it served)."""
        callers = self._callers(v)
        if callers is not None:
            return callers.get(task.name, False)
        return v.in_forward if v.owner in (task.name, *task.extra) else True
