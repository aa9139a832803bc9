"""What scoring produces: one outcome per (task, category), turned into Gradescope tests later."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """The result of one category of checks on one task.

    ``fraction`` in [0, 1] is the share of the category's points earned (partial credit);
    ``lines`` are feedback lines a student can read (never hidden expected values);
    ``review`` are instructor-only notes (suspicious code to look at by hand).
    """

    task: str
    category: str
    fraction: float
    lines: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0 - 1e-9

    def reason(self) -> str:
        """One line for tables: the first failure, or 'ok'."""
        return self.lines[0] if self.lines else ("ok" if self.passed else "failed")


def all_failed(task: str, categories: list[str], why: str) -> list[Outcome]:
    """Every category of a task at zero for one reason (import failed, hang, missing name...)."""
    return [Outcome(task, key, 0.0, [why]) for key in categories]


def unrunnable(assignment, task, results: list[dict] | None, failure: str | None, kind: str) -> list[Outcome] | None:
    """All-zero outcomes when a task could not run at all (a failure, or ``kind`` missing), else None."""
    keys = [c.key for c in assignment.categories]
    if failure is not None or results is None:
        return all_failed(task.name, keys, failure or "the submission did not run")
    missing = [r for r in results if r.get("missing")]
    if missing:
        why = next((r["error"] for r in missing if r.get("error")), None) or \
            f"{kind} {task.name} not found in {assignment.submission} — keep the name exactly `{task.name}`"
        return all_failed(task.name, keys, why)
    return None
