"""What scoring produces: one outcome per (task, category), turned into Gradescope tests later.

Also the few rules every scorer shares about what a student may read: tips that cost nothing, and
exceptions raised on hidden cases, which show only the exception's type and the case's public
description (their message can contain the hidden inputs).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field

TIP = "tip (no points lost): "  # a feedback line that is advice, not a failure

# Exception names safe to show for a hidden case: a submission's own class name could spell out
# hidden inputs, so anything else is shown as "an exception".
KNOWN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                             if isinstance(value, type) and issubclass(value, BaseException)) | {
    "LinAlgError", "OutOfMemoryError"}


@dataclass
class Outcome:
    """The result of one category of checks on one task.

    ``fraction`` in [0, 1] is the share of the category's points earned (partial credit);
    ``lines`` are feedback lines a student can read (never hidden expected values): failures first,
    then tips (lines starting with ``TIP``, which a passing outcome may carry too);
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
        """One line for tables: the first failure, or 'ok' (with the first tip, if any)."""
        if self.lines and not is_tip(self.lines[0]):
            return self.lines[0]
        if self.passed:
            return "ok" + (f"; {self.lines[0]}" if self.lines else "")
        return self.lines[0] if self.lines else "failed"


def is_tip(line: str) -> bool:
    return line.startswith(TIP)


def failures_then_tips(lines: list[str], limit: int = 6) -> list[str]:
    """Distinct lines, failures first (at most ``limit``), then at most two tips."""
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    problems = [ln for ln in seen if not is_tip(ln)][:limit]
    return problems + [ln for ln in seen if is_tip(ln)][:2]


def exception_name(name: str) -> str:
    """The exception's type name if it is a well-known one, else "an exception"."""
    name = (name or "").strip()
    return name if name in KNOWN_EXCEPTIONS else "an exception"


def exception_type_of(message: str) -> str:
    """The type name at the start of a one-line exception description ("TypeError: ...")."""
    m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*:", message or "")
    return m.group(1).rsplit(".", 1)[-1] if m else ""


def public_label(case: dict) -> str:
    """A hidden case's public description, e.g. "batch size 1" (its label without the "hidden " tag)."""
    label = str(case.get("label", ""))
    return label.split(" ", 1)[1] if label.startswith("hidden ") else label


def case_error(where: str, case: dict, message: str, exc_type: str = "") -> str:
    """``where [case]`` and the exception: the full one-line message on a visible case, only the
    exception's type and the case's description on a hidden one."""
    if case.get("visible"):
        return f"{where} [{case.get('label', '')}] raised {message}"
    return f"{where} [hidden case '{public_label(case)}']: {exception_name(exc_type or exception_type_of(message))}"


def all_failed(task: str, categories: list[str], why: str) -> list[Outcome]:
    """Every category of a task at zero for one reason (import failed, hang, missing name...)."""
    return [Outcome(task, key, 0.0, [why]) for key in categories]


def unrunnable(assignment, task, results: list[dict] | None, failure: str | None, kind: str) -> list[Outcome] | None:
    """All-zero outcomes when a task could not run at all (a failure, or ``kind`` missing), else None."""
    keys = [c.key for c in assignment.categories]
    if failure is not None or results is None:
        return all_failed(task.name, keys, failure or "the submission did not run")
    missing = [r for r in results if isinstance(r, dict) and r.get("missing")]
    if missing:
        why = next((r["error"] for r in missing if r.get("error")), None) or \
            f"{task.name} is not defined in {assignment.submission} — define the {kind} `{task.name}` with exactly that name"
        return all_failed(task.name, keys, why)
    return None
