"""Command-line options shared by check, grade and grade-batch, the assignment guess and the hidden-case seed lookup.

The value parsers themselves (time limits, memory sizes, run ids, output files) live in
course_nn/cli_types.py with every other command's.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
from pathlib import Path

from course_nn import cli_types, paths, registry
from course_nn.errors import UsageError
from course_nn.files import write_or_fail  # noqa: F401 - the grading commands call options.write_or_fail
from course_nn.registry import Assignment


def submission_to_assignment() -> dict[str, str]:
    """The file a student submits -> its assignment ({"functions.py": "hw1", "mlp.py": "hw2"}), from the registry."""
    return {registry.get(name).submission: name for name in registry.ASSIGNMENTS}


def add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=cli_types.positive_seconds, default=30.0, metavar="SECONDS",
                        help="time limit per graded Function/task (default: 30); a hang costs it once")
    parser.add_argument("--memory", type=cli_types.memory_size, default=2 << 30, metavar="SIZE",
                        help="memory cap for the submission's process (default: 2G; 0 = no cap)")


def add_hidden_seed(parser: argparse.ArgumentParser) -> None:
    """--hidden-seed FILE (--hidden in train/compare means layer sizes; the old spelling here still works for one release)."""
    parser.add_argument("--hidden-seed", metavar="FILE",
                        help="the hidden cases' secret seed file (JSON {\"seed\": N}; default: $COURSE_NN_HIDDEN, "
                             "else solutions/<hw>/hidden.json)")
    parser.add_argument("--hidden", dest="hidden_seed", metavar="FILE", action=cli_types.DeprecatedAlias,
                        instead="--hidden-seed {value}")


def _defined_names(path: Path) -> set[str]:
    """Top-level classes and functions a file (or a notebook's marked cells) defines; empty when it does not parse."""
    from course_nn.grading import submission

    try:
        tree = ast.parse(submission.read(path, None).text)
    except (SyntaxError, ValueError):
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}


def _task_names(name: str) -> set[str]:
    return {t.name for t in registry.get(name).tasks}


def _guess(path: Path) -> str | None:
    """The assignment of a file: by its name (functions.py, mlp.py), else by what it defines."""
    from course_nn.grading import submission

    by_file = submission_to_assignment()
    if path.name in by_file:
        return by_file[path.name]
    if path.suffix == submission.NOTEBOOK:
        return submission.notebook_assignment(path)
    defined = _defined_names(path)
    matches = [a for a in registry.ASSIGNMENTS if defined & _task_names(a)]
    return matches[0] if len(matches) == 1 else None


def assignment_for(path: str, name: str | None) -> Assignment:
    if not Path(path).exists():
        raise UsageError(f"{path}: no such file or folder; give the path to your submission (functions.py, mlp.py)")
    if name:
        return registry.get(name)
    p = Path(path)
    guess = _guess(p) if p.is_file() else None
    if guess is None and p.is_dir():
        guess = next((a for f, a in submission_to_assignment().items() if any(p.rglob(f))), None)
    if guess is None and p.is_dir():  # a folder with the course's notebook: its graded cells say which
        guess = next(filter(None, map(_guess, sorted(p.glob("*.ipynb")))), None)
    if guess is None:
        raise UsageError(f"cannot tell the assignment from {path!r}; add --assignment hw1 or hw2")
    return registry.get(guess)


def submission_path(path: str, name: str | None) -> tuple[str, Assignment, str | None]:
    """(the file to grade, its assignment, a note when the file was misnamed) for PATH.

    A folder is graded only when it holds exactly one submission file (see status.find_submission).
    """
    from course_nn.grading import status

    assignment = assignment_for(path, name)
    p = Path(path)
    if not p.is_dir():
        return path, assignment, None
    found, note = status.find_submission(p, assignment)
    return str(found), assignment, note


def wrong_assignment(path: str | Path, assignment: Assignment) -> tuple[str, str] | None:
    """(the assignment the file clearly belongs to, one line saying so) when it is another
    assignment's file (e.g. hw2's mlp.py graded as hw1), else None. check, grade and grade-batch
    all decide it here."""
    defined = _defined_names(Path(path))
    if not defined or defined & _task_names(assignment.name):
        return None
    for other in registry.ASSIGNMENTS:
        found = sorted(defined & _task_names(other))
        if other != assignment.name and found:
            return other, (f"{Path(path).name} does not match {assignment.name}: it defines {', '.join(found[:3])} from "
                           f"{other}, and none of {assignment.name}'s "
                           f"{', '.join(t.name for t in assignment.tasks[:3])}, ...")
    return None


def check_matches(path: str, assignment: Assignment) -> None:
    """UsageError when the file is clearly another assignment's (e.g. mlp.py graded as hw1)."""
    wrong = wrong_assignment(path, assignment)
    if wrong is not None:
        other, line = wrong
        raise UsageError(f"{line}; use --assignment {other} (or drop --assignment)")


def hidden_seed(assignment: Assignment, explicit: str | None) -> tuple[int | None, str]:
    """The secret seed of the hidden cases: --hidden-seed FILE, $COURSE_NN_HIDDEN, or solutions/<hw>/hidden.json."""
    candidates = [Path(explicit)] if explicit else []
    if os.environ.get("COURSE_NN_HIDDEN"):
        candidates.append(Path(os.environ["COURSE_NN_HIDDEN"]))
    sol = paths.solutions_dir(required=False)
    if sol is not None:
        candidates.append(sol / assignment.folder / "hidden.json")
    for c in candidates:
        if c.is_file():
            try:
                data = json.loads(c.read_text())
                return int(data["seed"]), str(c)
            except (ValueError, KeyError, TypeError) as err:
                raise UsageError(f"{c}: not a hidden-case file ({err}); expected JSON like {{\"seed\": 123}}") from err
        if explicit and c == Path(explicit):
            raise UsageError(f"{c}: no such hidden-case file")
    return None, ""
