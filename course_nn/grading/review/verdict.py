"""What the gate found in one file: violations, split into escapes and shortcuts."""

from __future__ import annotations

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

    def shortcuts(self, task: Task) -> list[Violation]:
        """Shortcut lines that cost ``task``: inside its class, or in a helper function only its own code
        and other such helpers call (shortcuts.helper_reach), any built-in of the assignment (softmax can
        compute a sigmoid); anywhere else in the file, its own built-ins and autograd (a helper in another
        class or at module level can do its work just as well)."""
        names = {task.name, *task.extra}
        own = {canonical(n) for n in task.forbidden}
        if not own:
            return []
        return [v for v in self.violations if not v.escape and (
            (task.name in self._callers(v) and v.op in self.all_ops | {"autograd"}) if self._callers(v) is not None
            else ((v.owner in names and v.op in self.all_ops | {"autograd"})  # its own class: any built-in, autograd
                  or v.op in own  # its own built-in, wherever it is
                  or (v.op == "autograd" and v.owner not in self.task_names)))]  # autograd in module-level code

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
