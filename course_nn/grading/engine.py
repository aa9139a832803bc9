"""The grading engine: run a submission in a sandboxed child, score what it returns, here.

The trusted parent never imports student code. The child runs ``python -I -B`` in a folder holding
only the submission, with a scrubbed environment, a memory cap, a time limit per task, capped
output and — when we are root, as on Gradescope — an unprivileged user. A task that hangs costs
its limit once: the child is killed and a fresh one carries on with the remaining tasks.
"""

from __future__ import annotations

import ast
import importlib
import io
import os
import pwd
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.grading.outcome import Outcome
from course_nn.registry import Assignment

CHILD_DIR = Path(__file__).with_name("child")
STARTUP_LIMIT = 120.0  # importing torch in the child; not the student's time
STDERR_CAP = 64 * 1024
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

    @property
    def score(self) -> float:
        cats = {c.key: c for c in self.assignment.categories}
        return sum(self.assignment.max_score(self.assignment.task(o.task), cats[o.category]) * o.fraction
                   for o in self.outcomes)


def resolve_submission(path: str | Path, assignment: Assignment) -> Path:
    """PATH is the submission file or a folder holding it (searched one level of nesting deep)."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such file or folder; give the path to {assignment.submission} or a folder holding it")
    if p.is_dir():
        direct = p / assignment.submission
        if direct.is_file():
            return direct
        found = sorted(p.rglob(assignment.submission))
        if not found:
            raise UsageError(f"{p}: no {assignment.submission} inside; {assignment.name} submissions are one "
                             f"{assignment.submission}")
        return found[0]
    if p.suffix != ".py":
        raise UsageError(f"{p}: expected a Python file ({assignment.submission})")
    return p


def scoring_module(assignment: Assignment):
    return importlib.import_module(f"course_nn.grading.{assignment.name}")


# ----------------------------------------------------------------------------------------------
# The child process


class _Child:
    """One sandboxed child process and its framed protocol channel."""

    def __init__(self, submission: Path, sandbox: Path, env: dict, user: str | None):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", str(sandbox / "runner" / "runner.py"), str(submission)],
            cwd=submission.parent, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True, user=user,
        )
        self.buffer = b""
        self.stderr = bytearray()
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self.base_rss = 0

    def _read_stderr(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):
            if len(self.stderr) < STDERR_CAP:
                self.stderr += chunk[: STDERR_CAP - len(self.stderr)]

    def send(self, obj: object) -> None:
        import torch

        buf = io.BytesIO()
        torch.save(obj, buf)
        data = buf.getvalue()
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return 0

    def read(self, deadline: float, memory_bytes: int) -> tuple[str, object]:
        """Next frame, or ("timeout"|"eof"|"memory", None)."""
        import torch

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                if len(self.buffer) >= 4:
                    (size,) = struct.unpack(">I", self.buffer[:4])
                    if len(self.buffer) >= 4 + size:
                        data, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
                        try:
                            return "frame", torch.load(io.BytesIO(data), weights_only=True)
                        except Exception:
                            return "garbled", None
                now = time.monotonic()
                if now >= deadline:
                    return "timeout", None
                if memory_bytes and self.base_rss and self.rss() > self.base_rss + memory_bytes:
                    return "memory", None
                if sel.select(timeout=min(0.05, deadline - now)):
                    chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                    if not chunk:
                        return "eof", None
                    self.buffer += chunk
        finally:
            sel.close()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        self._drain.join(timeout=2)

    def exit_text(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "the process stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"the process was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"the process exited with status {code} (does your code call sys.exit, os._exit or quit?)"


PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Adopt orphaned descendants: a submission that double-forks and calls setsid is still ours to kill."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children() -> set[int]:
    """PIDs whose parent is this process (from /proc; empty where there is no /proc)."""
    me, found = os.getpid(), set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me and fields[0] != "Z":
                found.add(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _kill_strays(before: set[int]) -> int:
    """Kill and reap every process adopted during grading (daemons a submission left behind)."""
    killed = 0
    for _ in range(50):
        strays = _children() - before
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.02)
    return killed


def _sandbox_user() -> tuple[str | None, str]:
    """An unprivileged user for the child when we run as root (as on Gradescope), if it can run python."""
    if os.geteuid() != 0:
        return None, ""
    for name in ("nobody", "autograder-student"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if _world_reachable(Path(sys.executable)) and _world_reachable(Path(importlib.util.find_spec("torch").origin)):
            return entry.pw_name, ""
        return None, (f"running as root but user {name!r} cannot reach {sys.executable} or torch; "
                      "the child runs as root (fine for local runs, not for untrusted code)")
    return None, "running as root and no unprivileged user found; the child runs as root"


def _world_reachable(path: Path) -> bool:
    path = path.resolve()
    for parent in path.parents:
        if not os.stat(parent).st_mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o004)


def _prepare_sandbox(submission: Path, assignment: Assignment) -> tuple[Path, Path]:
    root = Path(tempfile.mkdtemp(prefix="course-nn-grade-"))
    os.chmod(root, 0o755)
    (root / "runner").mkdir()
    for f in CHILD_DIR.glob("*.py"):
        if f.name != "__init__.py":
            shutil.copy(f, root / "runner" / f.name)
    work = root / "work"
    work.mkdir()
    target = work / assignment.submission
    shutil.copyfile(submission, target)  # only the whitelisted file travels
    for p in (root / "runner", work):
        os.chmod(p, 0o755)
    os.chmod(target, 0o644)
    return root, target


def _child_env(work: Path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _memory_text(memory_bytes: int) -> str:
    return f"used more memory than the grader allows ({memory_bytes / 2**30:.1f} GiB): look for a huge tensor " \
           "(e.g. forming a full Jacobian, or an outer product of the batch)"


def run_isolated(submission: Path, assignment: Assignment, make_cases, timeout: float,
                 memory_bytes: int) -> tuple[dict, dict[str, list | None], dict[str, str], list[str], str]:
    """Run every task's cases in sandboxed children. Returns cases, results, failures, notes, output.

    ``make_cases`` is called after the first child has started, so that the parent's work (and
    its torch import) overlaps with the child's.
    """
    sandbox, target = _prepare_sandbox(submission, assignment)
    user, note = _sandbox_user()
    notes = [note] if note else []
    if not _become_subreaper():
        notes.append("could not become a child subreaper: processes a submission detaches may outlive grading")
    before = _children()
    env = _child_env(target.parent)
    results: dict[str, list | None] = {}
    failures: dict[str, str] = {}
    output = bytearray()
    child = _Child(target, sandbox, env, user)
    try:
        cases = make_cases()
        precomputed = False
        uses_cuda = any(c.get("device", "cpu") != "cpu" for cs in cases.values() for c in cs)
        remaining = [t.name for t in assignment.tasks]
        while remaining:
            if child is None:
                child = _Child(target, sandbox, env, user)
            kind, frame = child.read(time.monotonic() + STARTUP_LIMIT, 0)
            if kind != "frame" or frame.get("event") != "ready":
                reason = f"the grader's child process did not start ({child.exit_text()})"
                for t in remaining:
                    failures[t] = reason
                notes.append(reason + ": " + bytes(child.stderr[-2000:]).decode(errors="replace"))
                break
            child.base_rss = child.rss()
            child.send({"probe": scoring_module(assignment).PROBE, "module_name": Path(assignment.submission).stem,
                        "tasks": remaining, "cases": {t: _public(cases[t]) for t in remaining},
                        "memory_bytes": 0 if uses_cuda else memory_bytes})
            if not precomputed:
                precomputed = True
                getattr(scoring_module(assignment), "precompute", lambda c: None)(cases)  # overlaps the child
            remaining = _collect(child, remaining, results, failures, timeout, memory_bytes)
            output += child.stderr
            child.kill()
            child = None
    finally:
        if child is not None:
            child.kill()
        strays = _kill_strays(before)
        if strays:
            notes.append(f"killed {strays} process(es) the submission left running after it exited")
        shutil.rmtree(sandbox, ignore_errors=True)
    return cases, results, failures, notes, bytes(output[:STDERR_CAP]).decode(errors="replace")


def _public(cases: list[dict]) -> list[dict]:
    """What the child may see of the cases: never the parent's references (keys starting with _)."""
    return [{k: v for k, v in c.items() if not k.startswith("_")} for c in cases]


def _collect(child: _Child, tasks: list[str], results: dict, failures: dict, timeout: float,
             memory_bytes: int) -> list[str]:
    """Read one child's frames. Returns the tasks still to run (after a hang or crash), else []."""
    kind, frame = child.read(time.monotonic() + timeout, memory_bytes)
    if kind != "frame" or frame.get("event") != "import":
        why = {"timeout": f"importing your file took longer than {timeout:g} s (code at module level that loops?)",
               "memory": _memory_text(memory_bytes)}.get(kind, f"your file ended the grader's process while "
                                                                f"being imported: {child.exit_text()}")
        for t in tasks:
            failures[t] = why
        return []
    if not frame["ok"]:
        for t in tasks:
            failures[t] = f"your file could not be imported: {frame['error']}"
        return []
    current = None
    while True:
        deadline = time.monotonic() + (timeout if current else STARTUP_LIMIT)
        kind, frame = child.read(deadline, memory_bytes)
        if kind == "frame" and frame.get("event") == "start":
            current = frame["task"]
            continue
        if kind == "frame" and frame.get("event") == "result":
            results[frame["task"]] = frame["results"]
            current = None
            continue
        if kind == "frame" and frame.get("event") == "done":
            return []
        # A hang, a crash, a memory blow-up, or garbage on the channel while running ``current``.
        done = set(results) | set(failures)
        if current is None:
            current = next((t for t in tasks if t not in done), None)
            if current is None:
                return []
        failures[current] = {
            "timeout": f"{current} took longer than {timeout:g} s and was stopped (an endless loop?)",
            "memory": f"{current} {_memory_text(memory_bytes)}",
            "garbled": f"{current}: the grader's channel was corrupted (does your code write to file descriptors?)",
        }.get(kind, f"{current}: {child.exit_text()}")
        return [t for t in tasks if t not in set(results) | set(failures)]


def run_in_process(submission: Path, assignment: Assignment, cases: dict[str, list[dict]]) -> dict[str, list]:
    """Same probes, no sandbox: for students' own pytest runs, where a debugger should work."""
    import torch

    from course_nn.grading.child import runner

    probe = importlib.import_module(f"course_nn.grading.child.{scoring_module(assignment).PROBE}")
    module = runner.load_submission(str(submission), f"_course_nn_submission_{abs(hash(str(submission)))}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: a thread pool only adds contention (as in the sandbox)
    try:
        return {task: [probe.run_case(module, c, str(submission)) for c in task_cases]
                for task, task_cases in cases.items()}
    finally:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------
# Review flags: an AST scan, never executed, for instructors only


SUSPICIOUS = {
    "torch.autograd.grad": "calls torch.autograd.grad", "torch.autograd.backward": "calls torch.autograd.backward",
    "torch.autograd.functional": "uses torch.autograd.functional", "torch.func": "uses torch.func",
    "functorch": "uses functorch", "enable_grad": "uses enable_grad", "set_grad_enabled": "uses set_grad_enabled",
    "importlib": "uses importlib", "__import__": "calls __import__", "exec": "calls exec", "eval": "calls eval",
    "ctypes": "uses ctypes", "subprocess": "uses subprocess", "os.system": "calls os.system",
    "sys.modules": "touches sys.modules", "builtins": "touches builtins", "atexit": "uses atexit",
    "os._exit": "calls os._exit", "sys.exit": "calls sys.exit", "gc": "uses gc", "inspect": "uses inspect",
    "open": "opens files", "socket": "uses socket", "solutions": "mentions solutions",
}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _flagged(name: str, key: str) -> bool:
    if key == "solutions":  # any mention: an import, an attribute, a path in a string
        return key in name
    return name == key or name.startswith(key + ".")


def review_flags(source: str, assignment: Assignment) -> dict[str, list[str]]:
    """Per task (and "*" for module level): suspicious constructs with their line numbers."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    owners: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            try:
                task = assignment.task(node.name).name
            except KeyError:
                continue
            owners.append((node.lineno, node.end_lineno or node.lineno, task))
    flags: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            names = [mod or ""] + [f"{mod}.{a.name}" if mod else a.name for a in node.names]
        elif isinstance(node, (ast.Attribute, ast.Name)):
            names = [_dotted(node)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "solutions" in node.value:
            names = ["solutions"]
        for name in names:
            for key, text in SUSPICIOUS.items():
                if _flagged(name, key):
                    line = getattr(node, "lineno", 0)
                    owner = next((t for a, b, t in owners if a <= line <= b), "*")
                    entry = f"line {line}: {text} (`{name}`)"
                    if entry not in flags.setdefault(owner, []):
                        flags[owner].append(entry)
    return flags


# ----------------------------------------------------------------------------------------------


def grade(path: str | Path, assignment: Assignment, *, visible_only: bool = False, seed: int | None = None,
          timeout: float = 30.0, memory_bytes: int = 2 << 30, isolate: bool = True,
          devices: tuple[str, ...] | None = None) -> GradeResult:
    """Grade one submission. Never raises for anything the submission does; only for bad PATH."""
    started = time.monotonic()
    submission = resolve_submission(path, assignment)
    notes: list[str] = []
    if seed is None and not visible_only:
        notes.append("no hidden-case seed given: hidden cases use the public fallback seed")
    secret = seed if seed is not None else PUBLIC_SEED + 1

    restore_threads: list[int] = []

    def build_cases():
        import torch

        restore_threads.append(torch.get_num_threads())
        torch.set_num_threads(1)  # the parent's tensors are tiny too; restored below
        devs = devices if devices is not None else (("cpu", "cuda") if torch.cuda.is_available() else ("cpu",))
        return scoring_module(assignment).make_cases(assignment, secret, visible_only, devs, public_seed=PUBLIC_SEED)

    output = ""
    if isolate:
        cases, results, failures, run_notes, output = run_isolated(submission, assignment, build_cases,
                                                                   timeout, memory_bytes)
        notes += run_notes
    else:
        cases = build_cases()
        failures = {}
        try:
            results = run_in_process(submission, assignment, cases)
        except BaseException as exc:  # noqa: BLE001 - the student's import failing is a result, not a crash
            from course_nn.grading.child.runner import describe_exception

            why = f"your file could not be imported: {describe_exception(exc, str(submission))}"
            results, failures = {}, {t.name: why for t in assignment.tasks}
    scorer = scoring_module(assignment)
    outcomes: list[Outcome] = []
    flags = review_flags(submission.read_text(errors="replace"), assignment)
    for i, task in enumerate(assignment.tasks):
        task_outcomes = scorer.score_task(assignment, task, cases[task.name], results.get(task.name),
                                          failures.get(task.name))
        # Module-level flags are listed once, with the first task, not repeated for every task.
        review = flags.get(task.name, []) + ([f"module level: {f}" for f in flags.get("*", [])] if i == 0 else [])
        for o in task_outcomes:
            if o.category == "compliance":
                o.review = review
        outcomes += task_outcomes
    if restore_threads:
        import torch

        torch.set_num_threads(restore_threads[0])
    return GradeResult(assignment, submission, outcomes, time.monotonic() - started, visible_only, notes, output)
