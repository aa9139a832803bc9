"""Cases: what the parent asks a submission, with an id, split into what the child may see and not.

A case's ``public`` part (inputs, upstream gradient, a label such as "hidden batch size 1") is the
only thing ever sent to the child; its ``secret`` part (the parent's reference values) never leaves
the parent. Results come back keyed by id, and the parent accepts exactly one well-formed result per
id it issued: a missing, extra or malformed result fails that case, so a submission cannot shorten
the list of cases it is graded on or answer for cases it was not asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from course_nn.grading import schema as schema_lib
from course_nn.grading.child import framing

MAX_RESULT_ELEMENTS = 1 << 22  # per tensor in a result; the cases are small



@dataclass
class Case:
    id: int
    task: str
    public: dict
    secret: dict = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.secret[key] if key in self.secret else self.public[key]

    def __setitem__(self, key: str, value) -> None:
        self.secret[key] = value  # what the parent adds (references) stays with the parent

    def __contains__(self, key: str) -> bool:
        return key in self.secret or key in self.public

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def sent(self) -> dict:
        """The one form of a case that reaches the child."""
        return {**self.public, "id": self.id, "task": self.task}


def task_seed(seed: int, task_number: int) -> int:
    """The seed of one task's random cases under a grading seed (the public or the hidden one).

    Each task draws from its own stream, so adding a case to one task never changes another's
    inputs; the prime stride keeps the streams of different seeds apart (seed s, task t never
    meets seed s', task t' while tasks number fewer than 1009)."""
    return seed * 1009 + task_number


def streams(assignment, seed: int, visible_only: bool, public_seed: int):
    """(task, visible, "visible"|"hidden", generator) for every task: its visible cases drawn from
    the public seed, then (unless ``visible_only``) its hidden ones from ``seed``. Every plugin's
    make_cases draws from these, so the seeding scheme is written once."""
    import torch

    for task in assignment.tasks:
        for visible, s in ((True, public_seed), (False, seed)):
            if visible_only and not visible:
                continue
            yield task, visible, "visible" if visible else "hidden", torch.Generator().manual_seed(task_seed(s, task.number))


def issue(raw: dict[str, list[dict]]) -> dict[str, list[Case]]:
    """Number every case. Keys a scorer marked parent-only (leading ``_``) go to the secret part."""
    out: dict[str, list[Case]] = {}
    next_id = 1
    for task, cases in raw.items():
        out[task] = []
        for c in cases:
            public = {k: v for k, v in c.items() if not k.startswith("_")}
            secret = {k: v for k, v in c.items() if k.startswith("_")}
            out[task].append(Case(next_id, task, public, secret))
            next_id += 1
    return out


_NUMBERS = (type(None), bool, int, float)  # always well formed, at any depth


def _well_formed(value, depth: int = 0) -> str | None:
    """Why a result value is not plain data we are willing to score, or None."""
    import torch

    kind = type(value)
    if kind in _NUMBERS:
        return None
    if kind is str:
        return None if len(value) <= 20_000 else "a string too long"
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor:
            return f"a {type(value).__name__} instead of a plain torch.Tensor"
        if str(value.dtype).removeprefix("torch.") not in framing.DTYPES:  # the frame format's own list
            return f"a tensor of dtype {value.dtype}"
        if value.numel() > MAX_RESULT_ELEMENTS:
            return f"a tensor of {value.numel()} elements"
        return None
    if depth > 6:
        return "data nested too deep"
    if kind in (list, tuple):
        items = value
    elif kind is dict:
        if not all(type(k) in (str, int) for k in value):
            return "a dict with keys that are not strings"
        items = value.values()
    else:
        return f"a value of type {type(value).__name__}"
    for v in items:  # numbers need no call (most of a result is numbers, text and tensors)
        if type(v) not in _NUMBERS and (w := _well_formed(v, depth + 1)):
            return w
    return None


def accept(cases: list[Case], answered: object) -> tuple[list[dict], list[str]]:
    """Pair each issued case with exactly one well-formed result; anything else fails that case.

    Returns the results aligned with ``cases`` and instructor notes about what was refused.
    """
    notes: list[str] = []
    if type(answered) is not dict:
        answered = {}
        notes.append("the child answered with something other than a table of results")
    results: list[dict] = []
    for case in cases:
        r = answered.get(case.id)
        if r is None:
            results.append({"error": "no result came back for this case", "stage": "grader"})
            continue
        why = "not a table" if type(r) is not dict else _well_formed(r)
        if why:
            notes.append(f"case {case.id} ({case.task}): result refused ({why})")
            results.append({"error": f"the result was malformed ({why})", "stage": "grader"})
            continue
        results.append(r)
    extra = set(answered) - {c.id for c in cases}
    if extra:
        notes.append(f"the child answered {len(extra)} case(s) it was not asked; ignored")
    return results, notes


UNREADABLE = "the grader could not read this case's result, so it earns nothing (the course staff can see why)"


def conform(cases: list, results: list, schema: Callable[[object], schema_lib.Schema]) -> tuple[list, list[str]]:
    """Each result checked against ``schema(case)`` before any scoring reads it: one that does not
    conform becomes a grader-made error for its case (a plain message for the student, the reason in
    the instructor notes). Results a previous step already replaced by such an error pass as they are;
    one per case, whatever the child sent (a missing one is an error for its case, extra ones are dropped).
    """
    results = [r if isinstance(r, dict) else {"error": "a malformed result came back for this case"}
               for r in results][:len(cases)]
    results += [{"error": "no result came back for this case"}] * (len(cases) - len(results))
    out, notes = [], []
    for case, r in zip(cases, results):
        why = schema_lib.why(schema(case), r)
        if why is None:
            out.append(r)
            continue
        task = getattr(case, "task", None) or (case.get("task") if isinstance(case, dict) else "?")
        label = case.get("label", "") if hasattr(case, "get") else ""
        notes.append(f"{task} [{label}]: result refused ({why})")
        out.append({"error": UNREADABLE, "stage": "grader"})
    return out, notes


def run_id_of(content: bytes) -> str:
    """A grading's run id: drawn from the submission's bytes, so the same file graded twice gets the
    same hidden cases (and score), and a file changed by one byte gets new ones."""
    return hashlib.sha256(b"course-nn run\0" + content).hexdigest()[:16]


def hidden_seed(secret: int, run_id: str) -> int:
    """The hidden cases' seed: the course's secret mixed with the run id (``run_id_of`` the submission).

    Without the secret the cases cannot be derived from the file, and answers precomputed for one
    file's cases fail once the file changes; the run id (kept in the instructor notes) reproduces a
    grading exactly.
    """
    digest = hashlib.sha256(f"{secret}:{run_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
