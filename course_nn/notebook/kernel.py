"""The code a notebook ran, as the assignment's file; the notebook's setup and export cells.

A kernel cannot see the notebook's cell tags (the frontend does not send them), so the code a
check, a training run or the export uses is taken from the kernel's own history: for each task
of the registry, the last cell that defines it (a top-level class, function or assignment of that
name), IPython lines left out by the same code that grades notebooks (grading/submission.py),
cells in the registry's order. That is the code the kernel holds; an edited cell counts once run.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from course_nn import registry
from course_nn.errors import CourseError, UsageError
from course_nn.grading import submission
from course_nn.registry import Assignment

_CURRENT: dict[str, str] = {}


def say(line: str) -> None:
    """One line for the student, in place of a traceback."""
    print(line)


def setup(assignment: str) -> None:
    """Remember the assignment, pick the device, and say both (the notebook's first code cell)."""
    import torch

    from course_nn import __version__

    a = registry.get(assignment)
    _CURRENT["assignment"] = a.name
    _tensorboard_binary()
    device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
    where = ", on Google Colab" if in_colab() else ""
    print(f"{a.name}: {a.title} — course-nn {__version__}, torch {torch.__version__}, device {device}{where}")


def in_colab() -> bool:
    return "google.colab" in sys.modules


def current() -> Assignment:
    """The assignment ``setup`` named; UsageError (one line) when setup has not run."""
    if "assignment" not in _CURRENT:
        raise UsageError("run the notebook's setup cell first (course.setup(...), near the top)")
    return registry.get(_CURRENT["assignment"])


def _tensorboard_binary() -> None:
    """%tensorboard starts the `tensorboard` program from PATH; point it at the one installed with
    this Python when PATH lacks it (a venv whose bin/ is not on the kernel's PATH)."""
    if os.environ.get("TENSORBOARD_BINARY") or shutil.which("tensorboard"):
        return
    candidate = Path(sys.executable).parent / "tensorboard"
    if not candidate.is_file():
        try:
            from importlib.metadata import distribution

            found = [f for f in distribution("tensorboard").files or [] if f.name == "tensorboard" and "bin" in f.parts]
            candidate = Path(distribution("tensorboard").locate_file(found[0])) if found else candidate
        except Exception:  # noqa: BLE001 - no tensorboard: %tensorboard says so itself
            return
    if candidate.is_file():
        os.environ["TENSORBOARD_BINARY"] = str(candidate.resolve())


# ----------------------------------------------------------------------------- the code this kernel ran

def history() -> list[str]:
    """The raw source of every cell this kernel ran, in order ([] outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return []
    shell = get_ipython()
    return list(shell.history_manager.input_hist_raw) if shell is not None else []


def _defines(python: str) -> set[str]:
    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not a cell that defines anything
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@dataclass
class Ran:
    """The assignment's file as this kernel ran it."""

    text: str
    cells: dict[str, int] = field(default_factory=dict)  # task -> the history index of its cell
    missing: list[str] = field(default_factory=list)  # tasks no cell defined yet


def ran(a: Assignment, cells: list[str] | None = None) -> Ran:
    """For each task, the last cell that defines it, assembled as the assignment's file."""
    picked: dict[str, tuple[int, str]] = {}
    for index, raw in enumerate(history() if cells is None else cells):
        python, _ = submission.cell_python(raw)
        if python is None:
            continue
        defined = _defines(python)
        for t in a.tasks:
            if t.name in defined:
                picked[t.name] = (index, python)
    parts, seen = [], set()
    for t in a.tasks:
        if t.name in picked and picked[t.name][0] not in seen:
            index, python = picked[t.name]
            seen.add(index)
            parts.append((f"In [{index}]: {t.name}", python))
    text = submission.assemble(parts, f"{a.submission}, {submission.ASSEMBLED} from the graded cells this "
                                      "notebook ran\n(the last run of each; IPython lines left out)")
    return Ran(text, {t: i for t, (i, _) in picked.items()}, [t.name for t in a.tasks if t.name not in picked])


def ran_file(a: Assignment, folder: Path) -> tuple[Path, Ran]:
    """The file this kernel ran, written as ``folder/<hw folder>/<submission>`` (the trainer names
    runs after the file's folder and stem)."""
    code = ran(a)
    path = folder / "notebook" / a.submission
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code.text, encoding="utf-8")
    return path, code


# ----------------------------------------------------------------------------- the file to upload

def export(a: Assignment, text: str, out: Path, force: bool = False) -> None:
    """Write ``text`` to ``out`` atomically; never over a file course-nn did not write (a student's
    own .py) unless ``force``."""
    from course_nn.files import atomic_write_text

    if out.is_dir():
        raise UsageError(f"{out} is a folder; give the file to write, e.g. {out / a.submission}")
    if out.exists() and not force:
        try:
            first = out.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
        except OSError as err:
            raise UsageError(f"cannot read {out} ({err.strerror or err})") from None
        if not first or submission.ASSEMBLED not in first[0]:
            raise UsageError(f"{out} already exists and was not written by course-nn (your own {a.submission}?); "
                             "it is left as it is: choose another file, or remove it first")
    try:
        out.parent.mkdir(exist_ok=True)  # upload/ (one level: a typo must not create a tree of folders)
        atomic_write_text(out, text)
    except OSError as err:
        raise CourseError(f"cannot write {out}: {err.strerror or err}") from None


def submit(out: str | Path | None = None) -> None:
    """Write ``upload/<submission>`` (or ``out``) from the graded cells this kernel ran, and say what
    to upload. On Colab the file is also downloaded."""
    try:
        a = current()
        code = ran(a)
        target = Path(out) if out is not None else Path("upload") / a.submission
        if not code.cells:
            raise UsageError("no graded cell has run yet, so there is nothing to write: run the notebook from "
                             "the top (Run All), then this cell")
        export(a, code.text, target)
    except CourseError as err:
        say(f"nothing written: {err}")
        return
    say(f"wrote {target} from your graded cells ({', '.join(t for t in code.cells)}), as you last ran them: "
        f"upload this file to Gradescope as {a.submission}.")
    if code.missing:
        say(f"missing: {', '.join(code.missing)} (no cell defining {'it' if len(code.missing) == 1 else 'them'} "
            "has run): run every graded cell, then this cell again.")
    if in_colab():
        from google.colab import files  # type: ignore[import-not-found]

        files.download(str(target))
