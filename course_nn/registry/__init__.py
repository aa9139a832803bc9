"""One registry per assignment: its tasks, their points, markers, shortcuts and allow-list.

Points are written once, on the task. Each grading category (forward, backward, ...) takes a
fixed share of a task's points, so every test's ``max_score`` is derived, never typed twice.
What a graded file may import and call is the assignment's ``policy`` (policy.py, api.py): the
static gate refuses everything else, and the handouts' rules text is generated from it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from course_nn.registry.api import BASE
from course_nn.registry.policy import Policy


@dataclass(frozen=True)
class Category:
    """A kind of test every task of an assignment gets, worth ``weight`` of the task's points."""

    key: str
    weight: float
    title: str  # completes "<Task>: <title>", e.g. "backward matches the reference (hidden cases)"
    visibility: str = "visible"  # Gradescope visibility of the test


@dataclass(frozen=True)
class Task:
    number: int
    name: str  # the graded class or function, exactly as the submission defines it
    points: float
    summary: str
    # Shortcuts: torch callables (by __name__, every alias) that do this task's work. Allowed in the
    # file, but a line using one costs this task its compliance and gated credit.
    forbidden: frozenset[str] = field(default_factory=frozenset)
    extra: tuple[str, ...] = ()  # other names this task's solution blocks live in (hw2's MLP helpers)
    # Names this task's solution needs beyond the assignment's policy ("torch.cos", ".cos" for an
    # attribute); admitted file-wide (see policy.py).
    allowed: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Assignment:
    name: str  # "hw1"
    number: int  # 1 -> markers task1_N
    folder: str  # folder under solutions/ and assignments/
    submission: str  # the one file a student submits
    title: str
    tasks: tuple[Task, ...]
    categories: tuple[Category, ...]
    # Categories worth nothing for a task whose compliance check found autograd or a built-in doing
    # the work: a backward that was not written by hand earns no backward credit.
    gated_by_compliance: tuple[str, ...] = ()
    # The grading plugin (course_nn/grading/plugin.py's contract) that makes cases and scores them.
    grader: str = ""
    # Whether graded code may call autograd itself (hw2 trains with loss.backward(); hw1 must not).
    autograd_allowed: bool = False
    # What a graded file may import, call and touch (policy.py); tasks' ``allowed`` names add to it.
    policy: Policy = BASE

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name or name in t.extra:
                return t
        raise KeyError(name)

    def marker(self, task: Task) -> str:
        """The pytest marker of a task, e.g. ``task1_3`` (minitorch style)."""
        return f"task{self.number}_{task.number}"

    def label(self, task: Task) -> str:
        """How student-facing text names a task, e.g. ``hw1 task 3``."""
        return f"{self.name} task {task.number}"

    def max_score(self, task: Task, category: Category) -> float:
        return round(task.points * category.weight, 6)

    @property
    def rules(self) -> Policy:
        """The allow-list the gate applies to this assignment's files: the policy and every task's extras."""
        return self.policy.with_names(frozenset(n for t in self.tasks for n in t.allowed), "for single tasks")

    @property
    def total_points(self) -> float:
        return sum(t.points for t in self.tasks)


#: What a notebook handout installs on Google Colab: a pip requirement (the course's wheel URL, a
#: git+https:// link, or a name on its package index). Set once here; `handout build --install` overrides it.
INSTALL = "course-nn"
#: OWNER/REPO[@BRANCH] of the public repository that holds assignments/, for the notebooks' "Open in
#: Colab" badge ("" = no badge in the notebooks; `handout build --format ipynb` prints the line to paste).
COLAB_GITHUB = ""

ASSIGNMENTS = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("hw")))


def get(name: str) -> Assignment:
    """The registry of one assignment by name (``hw1``, ``hw2``)."""
    if name not in ASSIGNMENTS:
        from course_nn.errors import UsageError

        raise UsageError(f"unknown assignment {name!r}; choose one of: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"course_nn.registry.{name}").ASSIGNMENT
