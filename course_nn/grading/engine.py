"""The grading engine: run a submission in a sandboxed child, score what it returns, here.

The trusted parent never imports student code. It checks the source with the static gate
(review/), issues numbered cases (cases.py), runs the child in the sandbox (sandbox/), accepts
exactly one well-formed result per case, and scores with the assignment's scorer. A task that
hangs costs its limit once: the child is killed and a fresh one carries on with the rest. A child
that does not start, or dies without a cause the grader can prove, is started once more; a second
time the result is a grader error, with no score (never the student's 0).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.grading import cases as case_lib
from course_nn.grading import gate_credit, plugin, review, sandbox
from course_nn.grading import submission as submitted
from course_nn.grading.gate_credit import IMPORT_FAILED
from course_nn.grading.outcome import Outcome, all_failed
from course_nn.grading.plugin import GraderPlugin
from course_nn.registry import Assignment

STARTUP_LIMIT = 120.0  # importing torch in the child; not the student's time
PUBLIC_SEED = 0


@dataclass
class GradeResult:
    assignment: Assignment
    submission: Path
    outcomes: list[Outcome]
    seconds: float
    visible_only: bool
    notes: list[str] = field(default_factory=list)  # instructor-facing notes about the run
    output: str = ""  # what the submission printed (capped)
    run_id: str = ""  # reproduces this grading's hidden cases (instructor only): grade --replay RUN_ID
    source_notes: list[str] = field(default_factory=list)  # for the student: how the file was read (submission.py)
    gate: list[str] = field(default_factory=list)  # every line the static gate refused or charged (student-facing)
    grader_error: str = ""  # the grader failed (no trustworthy run): never a score, see status.GRADER_ERROR

    def points_by_task(self) -> dict[str, tuple[float, float]]:
        """(earned, possible) per task, in the registry's order: the one place points are summed."""
        a = self.assignment
        cats = {c.key: c for c in a.categories}
        totals = {t.name: [0.0, 0.0] for t in a.tasks}
        for o in self.outcomes:
            worth = a.max_score(a.task(o.task), cats[o.category])
            totals[a.task(o.task).name][0] += worth * o.fraction
            totals[a.task(o.task).name][1] += worth
        return {name: (earned, possible) for name, (earned, possible) in totals.items()}

    @property
    def score(self) -> float:
        return sum(earned for earned, _ in self.points_by_task().values())


def resolve_submission(path: str | Path, assignment: Assignment) -> Path:
    """PATH is the submission file or a folder holding it (searched one level of nesting deep).

    Symbolic links are refused: the grader must read the student's file, not whatever a link
    points at (another student's work, or a file only the grader may read).
    """
    p = Path(path)
    if p.is_symlink():
        raise UsageError(f"{p}: is a symbolic link; submit the file itself")
    if not p.exists():
        raise UsageError(f"{p}: no such file or folder; give the path to {assignment.submission} or a folder holding it")
    if p.is_dir():
        direct = p / assignment.submission
        found = [direct] if direct.is_file() or direct.is_symlink() else sorted(p.rglob(assignment.submission))
        if not found:
            raise UsageError(f"{p}: no {assignment.submission} inside; {assignment.name} submissions are one "
                             f"{assignment.submission}")
        if found[0].is_symlink() or any(q.is_symlink() for q in found[0].relative_to(p).parents if q != Path(".")):
            raise UsageError(f"{found[0]}: is a symbolic link; submit the file itself")
        return found[0]
    if p.suffix not in submitted.SUFFIXES:
        raise UsageError(f"{p}: expected a Python file ({assignment.submission}) or the course's notebook (.ipynb)")
    return p


def scoring_module(assignment: Assignment) -> GraderPlugin:
    """The assignment's grading plugin, as its registry names it."""
    return plugin.load(assignment)


# ----------------------------------------------------------------------------------------------
# The child process


def _memory_text(memory_bytes: int) -> str:
    return f"used more memory than the grader allows ({memory_bytes / 2**30:.1f} GiB): look for a huge tensor " \
           "(e.g. forming a full Jacobian, or an outer product of the batch)"


RETRIES = 1  # a child that dies without a cause the grader can prove is started once more


def run_isolated(submission: Path, assignment: Assignment, make_cases, timeout: float, memory_bytes: int,
                 hide: list[Path] | tuple[Path, ...] = (), zygote: bool = False, source: bytes | None = None,
                 student_check: bool = False
                 ) -> tuple[dict, dict[str, list], dict[str, str], list[str], str, str]:
    """Run every task's cases in sandboxed children. Returns cases, results, failures, notes, output
    and the grader's own error ("" unless no trustworthy run was possible: a child that could not
    start, or one that died twice without a cause the grader can prove — never the student's 0).
    ``source``: the graded text (UTF-8) the child imports instead of the file's bytes (submission.py).
    ``make_cases`` is called once the first child has started: the parent's work overlaps the child's."""
    contain = sandbox.containment(student_check)
    if contain.error:
        why = f"the grader cannot start a sandboxed child here: {contain.error}"
        return make_cases(), {}, {t.name: f"not graded: {why}" for t in assignment.tasks}, [contain.describe()], "", why
    forker, early_cases, zygote_note = None, None, ""
    if zygote:
        starting, _why = sandbox.zygote_for(contain, wait=False)
        if starting is None or not starting.heard():
            early_cases = make_cases()  # its torch import overlaps the cases being built here
        # else (a batch's later students): the child is forked first and the cases are built while it
        # starts (its containment waits 5-20 ms on the kernel's cgroup migration), as for a fresh child
        forker, why = sandbox.zygote_for(contain)
        zygote_note = why or "zygote: the child was forked from an interpreter that had imported torch"
    grading = sandbox.Grading(contain, submission, assignment.submission, hide, source)
    notes = grading.notes + ([zygote_note] if zygote_note else [])
    answers: dict[str, dict] = {}
    failures: dict[str, str] = {}
    output = bytearray()
    grader_error = ""
    retries = RETRIES
    child: sandbox.Child | None = grading.child(memory_bytes, forker)
    try:
        cases = early_cases if early_cases is not None else make_cases()
        precomputed = False
        uses_cuda = any(c.get("device", "cpu") != "cpu" for cs in cases.values() for c in cs)
        # Every task's visible cases run before any hidden case (see the runner).
        remaining = [(t.name, visible) for visible in (True, False) for t in assignment.tasks
                     if any(bool(c.get("visible")) == visible for c in cases[t.name])]
        while remaining:
            if child is None:
                child = grading.child(memory_bytes, forker)
            kind, frame = child.read(time.monotonic() + STARTUP_LIMIT)
            started = kind == "frame" and type(frame) is dict and frame.get("event") == "ready"
            if not started:  # no student code has run yet: whatever happened is the grader's
                unexplained = f"the grader's child process did not start ({child.exit_text()})"
                notes.append(unexplained + ": " + bytes(child.output[-2000:]).decode(errors="replace"))
            else:
                child.watch(0 if uses_cuda else memory_bytes)
                if child.fallback and child.fallback not in notes:
                    notes.append(child.fallback)
                wanted = set(remaining)
                child.send({"probe": scoring_module(assignment).PROBE, "module_name": Path(assignment.submission).stem,
                            "units": [list(u) for u in remaining],
                            "cases": [c.sent() for t in dict.fromkeys(t for t, _ in remaining) for c in cases[t]
                                      if (t, bool(c.get("visible"))) in wanted],
                            "memory_bytes": 0 if uses_cuda else memory_bytes})
                if not precomputed:
                    precomputed = True
                    scoring_module(assignment).precompute(cases)  # overlaps the child
                remaining, unexplained = _collect(child, remaining, answers, failures, timeout, memory_bytes)
            child.kill()
            grading.ended(child)
            output += child.output
            child = None
            if unexplained:
                if retries:
                    retries -= 1
                    notes.append(f"started the child again: {unexplained}")
                    forker = forker if started else None  # a child that did not start: a fresh interpreter next
                    continue
                grader_error = f"{unexplained}, twice"
                failures.update({t.name: f"not graded: {grader_error}" for t in assignment.tasks})
                break
    finally:
        if child is not None:
            child.kill()
            grading.ended(child)
        notes += grading.close()
    results: dict[str, list] = {}
    for t in cases:
        if t not in failures:
            results[t], refused = case_lib.accept(cases[t], answers.get(t, {}))
            notes += refused
    return cases, results, failures, notes, bytes(output[:sandbox.OUTPUT_CAP]).decode(errors="replace"), grader_error


def _death_of(child: sandbox.Child, kind: str) -> tuple[str, str]:
    """(cause, text) of a child that stopped answering: "timeout" and "memory" are the grader's own
    findings; for an ended process, the child's death (see Child.death)."""
    if kind in ("timeout", "memory", "garbled", "frame"):
        return kind, ""
    return child.death()


def _collect(child: sandbox.Child, units: list[tuple[str, bool]], answers: dict, failures: dict, timeout: float,
             memory_bytes: int) -> tuple[list[tuple[str, bool]], str]:
    """Read one child's frames into ``answers`` (task -> case id -> result). Returns the units still to
    run after a hang or crash (a failed task's other units are dropped), else [], and why the child
    died when that was no cause the grader can prove (the units are then all still to run)."""
    tasks = list(dict.fromkeys(t for t, _ in units))
    kind, frame = child.read(time.monotonic() + timeout)
    if kind != "frame" or type(frame) is not dict or frame.get("event") != "import":
        cause, text = _death_of(child, kind)
        if cause == "unexplained":
            return units, f"the child died while importing the file: {text}"
        why = {"timeout": f"importing your file took longer than {timeout:g} s (code at module level that loops?)",
               "memory": _memory_text(memory_bytes)}.get(cause, f"your file ended the grader's process while "
                                                                f"being imported: {text or kind}")
        for t in tasks:
            failures[t] = why
        return [], ""
    if not frame.get("ok"):
        for t in tasks:
            failures[t] = f"{IMPORT_FAILED}{str(frame.get('error'))[:600]}"
        return [], ""
    done: set[int] = set()
    current: int | None = None
    while True:
        deadline = time.monotonic() + (timeout if current is not None else STARTUP_LIMIT)
        kind, frame = child.read(deadline)
        event = frame.get("event") if kind == "frame" and type(frame) is dict else None
        unit = frame.get("unit") if event else None
        if event == "start" and type(unit) is int and 0 <= unit < len(units) and unit not in done:
            current = unit
            continue
        if event == "result" and unit == current and current is not None:
            if type(frame.get("results")) is dict:
                answers.setdefault(units[current][0], {}).update(frame["results"])
            done.add(current)
            current = None
            continue
        if event == "done":
            return [], ""
        # A hang, a crash, a memory blow-up, or garbage on the channel while running ``current``.
        if current is None:
            current = next((i for i in range(len(units)) if i not in done), None)
            if current is None:
                return [], ""
        task = units[current][0]
        cause, text = _death_of(child, kind if kind != "frame" else "frame")
        if cause == "unexplained":
            return [u for i, u in enumerate(units) if i not in done], f"the child died during {task}: {text}"
        failures[task] = {
            "timeout": f"{task} took longer than {timeout:g} s and was stopped (an endless loop?)",
            "memory": f"{task} {_memory_text(memory_bytes)}",
            "garbled": f"{task}: the grader's channel was corrupted (does your code write to file descriptors?)",
            "frame": f"{task}: the grader received a message it did not ask for",
        }.get(cause, f"{task}: {text}")
        return [u for i, u in enumerate(units) if i not in done and u[0] not in failures], ""


def run_in_process(submission: Path, assignment: Assignment, cases: dict[str, list[dict]]) -> dict[str, list]:
    """Same probes, no sandbox: for students' own pytest runs, where a debugger should work."""
    import torch

    from course_nn.grading.child import runner

    probe = importlib.import_module(f"course_nn.grading.child.{scoring_module(assignment).PROBE}")
    module = runner.load_submission(str(submission), f"_course_nn_submission_{abs(hash(str(submission)))}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: a thread pool only adds contention (as in the sandbox)
    try:
        return {task: [runner.run_case_guarded(probe, module, c.sent() if isinstance(c, case_lib.Case) else c,
                                               str(submission)) for c in task_cases] for task, task_cases in cases.items()}
    finally:
        torch.set_num_threads(threads)


def warm_up(assignment: Assignment) -> None:
    """Build (and precompute) one set of public cases on the CPU, single-threaded, so that torch's
    lazy imports (the first autograd.grad's) and the visible cases with their references (hw1 keeps
    them per process) are paid once by a process that will fork grading workers, not by every worker;
    likewise the gate's resolved allow-list (its index imports the listed modules) and the first
    calls of drawing hidden cases and their references, drawn here from the public fallback seed and
    dropped (together about 30 ms of a worker's first grading). Runs no student code and touches no
    GPU (a process that initialised CUDA must not fork)."""
    import torch

    torch.set_num_threads(1)
    plug = scoring_module(assignment)
    raw = plug.make_cases(assignment, PUBLIC_SEED, True, ("cpu",), public_seed=PUBLIC_SEED)
    plug.precompute(case_lib.issue(raw))
    raw = plug.make_cases(assignment, case_lib.hidden_seed(PUBLIC_SEED + 1, "warm-up"), False, ("cpu",),
                          public_seed=PUBLIC_SEED)
    plug.precompute(case_lib.issue(raw))
    review.check("", assignment)
    review.review_flags("", assignment)


SCORING_FAILED = ("the grader could not score {task} from what your code returned, so it earns nothing here "
                  "(the course staff can see why)")


def _score_guarded(scorer: GraderPlugin, assignment: Assignment, task, cases: list, results: list | None,
                   failure: str | None, notes: list[str]) -> list[Outcome]:
    """The plugin's score_task, where an exception fails this task with a plain line and never the
    grading: the results come from the child, which runs student code and may have sent anything
    that passes the frame and schema checks. The exception goes to the instructor notes, so a
    grader bug an honest file meets is still seen (and honest files are tested for full credit)."""
    try:
        return scorer.score_task(assignment, task, cases, results, failure)
    except Exception as exc:  # noqa: BLE001 - see above: a task's failure, never the grader's
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb is not None else ""
        notes.append(f"scoring {task.name} failed: {type(exc).__name__}: {str(exc)[:300]}{where}")
        return all_failed(task.name, [c.key for c in assignment.categories], SCORING_FAILED.format(task=task.name))


def grade(path: str | Path, assignment: Assignment, *, visible_only: bool = False, seed: int | None = None,
          timeout: float = 30.0, memory_bytes: int = 2 << 30, isolate: bool = True,
          devices: tuple[str, ...] | None = None, run_id: str | None = None,
          hide: list[Path] | tuple[Path, ...] = (), zygote: bool = False, student_check: bool = False) -> GradeResult:
    """Grade one submission. Never raises for anything the submission does; only for bad PATH
    (and, when isolating as root, for an interpreter the sandbox user cannot run).

    ``seed`` is the course's secret hidden-case seed; it is mixed with ``run_id``, by default drawn
    from the submission's content (the same file always gets the same cases; pass a run id back to
    reproduce a grading of another version). ``hide`` adds paths the child must not read. ``zygote``
    forks the child from a per-process interpreter that has imported torch (class-scale grading).
    ``student_check``: a student checking their own file (visible cases only), which is never refused:
    as root with no user to drop to, the child runs as root (its notes say so).
    """
    started = time.monotonic()
    submission = resolve_submission(path, assignment)
    student_check = student_check and visible_only  # no secret case ever runs next to root's child
    if isolate:  # refuse before any work: student code as root, or secrets a child could read
        sandbox.ready(hide, student_check)
    notes: list[str] = []
    run_id = run_id or case_lib.run_id_of(submission.read_bytes())
    if seed is None and not visible_only:
        notes.append("no hidden-case seed given: hidden cases use the public fallback seed")
    secret = case_lib.hidden_seed(seed if seed is not None else PUBLIC_SEED + 1, run_id)
    notes.append(f"run id {run_id} (reproduce these hidden cases with --replay {run_id})")

    restore_threads: list[int] = []
    read = submitted.read(submission, assignment)  # any encoding, or a notebook's marked cells
    if read.problem:  # nothing to run: the student's import error, in one line
        keys = [c.key for c in assignment.categories]
        outcomes = [o for t in assignment.tasks for o in all_failed(t.name, keys, f"{IMPORT_FAILED}{read.problem}")]
        return GradeResult(assignment, submission, outcomes, time.monotonic() - started, visible_only, notes,
                           run_id=run_id, source_notes=list(read.notes))
    source = read.text
    verdicts: list[review.Verdict] = []

    def build_cases():
        """Runs once the child is starting, so the parent's torch import overlaps the child's."""
        import torch

        verdicts.append(review.check(source, assignment))
        restore_threads.append(torch.get_num_threads())
        torch.set_num_threads(1)  # the parent's tensors are tiny too; restored below
        devs = devices if devices is not None else (("cpu", "cuda") if torch.cuda.is_available() else ("cpu",))
        raw = scoring_module(assignment).make_cases(assignment, secret, visible_only, devs, public_seed=PUBLIC_SEED)
        return case_lib.issue(raw)

    output = grader_error = ""
    if isolate:
        cases, results, failures, run_notes, output, grader_error = run_isolated(
            submission, assignment, build_cases, timeout, memory_bytes, hide, zygote, source.encode("utf-8"),
            student_check)
        notes += run_notes
    else:
        cases = build_cases()
        failures = {}
        try:
            with submitted.as_file(submission, read, assignment.submission) as importable:
                results = run_in_process(importable, assignment, cases)
        except BaseException as exc:  # noqa: BLE001 - the student's import failing is a result, not a crash
            from course_nn.grading.child.runner import describe_exception

            results, failures = {}, {t.name: f"{IMPORT_FAILED}{describe_exception(exc, str(submission))}"
                                     for t in assignment.tasks}
    scorer = scoring_module(assignment)
    verdict = verdicts[0]
    outcomes: list[Outcome] = []
    flags = review.review_flags(source, assignment)
    for i, task in enumerate(assignment.tasks):
        task_outcomes = _score_guarded(scorer, assignment, task, cases[task.name], results.get(task.name),
                                       failures.get(task.name), notes)
        # Module-level flags are listed once, with the first task, not repeated for every task.
        flagged = flags.get(task.name, []) + ([f"module level: {f}" for f in flags.get("*", [])] if i == 0 else [])
        for o in task_outcomes:
            if o.category == "compliance":
                notes += o.review  # what the scorer flagged at run time (refused results, code left torch)
                o.review = flagged + o.review
        outcomes += task_outcomes
    gate_credit.apply(assignment, outcomes, verdict, results, failures)
    if verdict.violations:
        notes.append("static gate: " + "; ".join(v.text() for v in verdict.violations[:8]))
    if restore_threads:
        import torch

        torch.set_num_threads(restore_threads[0])
    return GradeResult(assignment, submission, outcomes, time.monotonic() - started, visible_only, notes, output,
                       run_id, list(read.notes), gate=[v.text() for v in verdict.violations][:gate_credit.GATE_LINES],
                       grader_error=grader_error)
