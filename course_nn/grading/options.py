"""Command-line options shared by check, grade and grade-batch, and the hidden-case seed lookup."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from course_nn import paths, registry
from course_nn.errors import UsageError
from course_nn.registry import Assignment

SUBMISSION_TO_ASSIGNMENT = {"functions.py": "hw1", "mlp.py": "hw2"}


def parse_memory(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)i?[bB]?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write e.g. 2G, 512M or 0 for no cap")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time limit; give seconds above 0, e.g. 30")
    return value


def output_file(text: str) -> str:
    """A path to write a file at: not a folder, and its folder can be created."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file path such as {path / 'results.json'}")
    parent = next((p for p in path.resolve().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot create {text}: {parent} is a file, not a folder")
    return text


def add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=positive_seconds, default=30.0, metavar="SECONDS",
                        help="time limit per graded Function/task (default: 30); a hang costs it once")
    parser.add_argument("--memory", type=parse_memory, default=2 << 30, metavar="SIZE",
                        help="memory cap for the submission's process (default: 2G; 0 = no cap)")


def add_assignment(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--assignment", "-a", choices=registry.ASSIGNMENTS, required=required,
                        help="which assignment" + ("" if required else " (default: guessed from the file name)"))


def assignment_for(path: str, name: str | None) -> Assignment:
    if not Path(path).exists():
        raise UsageError(f"{path}: no such file or folder; give the path to your submission (functions.py, mlp.py)")
    if name:
        return registry.get(name)
    guess = SUBMISSION_TO_ASSIGNMENT.get(Path(path).name)
    if guess is None and Path(path).is_dir():
        guess = next((a for f, a in SUBMISSION_TO_ASSIGNMENT.items() if (Path(path) / f).is_file()), None)
    if guess is None:
        raise UsageError(f"cannot tell the assignment from {path!r}; add --assignment hw1 or hw2")
    return registry.get(guess)


def hidden_seed(assignment: Assignment, explicit: str | None) -> tuple[int | None, str]:
    """The secret seed of the hidden cases: --hidden FILE, $COURSE_NN_HIDDEN, or solutions/<hw>/hidden.json."""
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
