"""The contract every assignment's grader module fulfils (named by the registry's ``Assignment.grader``).

The engine knows nothing about Functions or perceptrons: it asks the plugin for cases, sends their
public part to the child, where the plugin's probe (``PROBE``, a module in grading/child/ using only
the standard library and torch) runs them, lets the plugin add its references while the child
works, and hands each task's results back to the plugin to score.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from course_nn.grading.outcome import Outcome
from course_nn.registry import Assignment, Task


@runtime_checkable
class GraderPlugin(Protocol):
    PROBE: str  # module name of the child-side probe in course_nn/grading/child/

    def make_cases(self, assignment: Assignment, seed: int, visible_only: bool, devices: tuple[str, ...] = ("cpu",),
                   public_seed: int = 0) -> dict[str, list[dict]]:
        """Every task's cases: visible ones from ``public_seed``, hidden ones from ``seed``."""

    def precompute(self, cases: dict) -> None:
        """Add the parent's references to the cases (called only after the child has been sent them)."""

    def score_task(self, assignment: Assignment, task: Task, cases: list, results: list[dict] | None,
                   failure: str | None) -> list[Outcome]:
        """One Outcome per category for one task, from the child's results (aligned with ``cases``)."""


def load(assignment: Assignment) -> GraderPlugin:
    module = importlib.import_module(assignment.grader)
    missing = [name for name in ("PROBE", "make_cases", "precompute", "score_task") if not hasattr(module, name)]
    if missing:
        raise TypeError(f"{assignment.grader} does not fulfil the grader contract: missing {', '.join(missing)}")
    return module  # a module is the plugin: its functions are the Protocol's methods
