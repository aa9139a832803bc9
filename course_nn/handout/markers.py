"""Solution markers: ``# BEGIN SOLUTION`` / ``# END SOLUTION`` blocks (the nbgrader/Otter convention).

In the generated student file each block becomes one line,
``raise NotImplementedError("<Class>.<method> is not implemented yet (hw1 task N)")``,
at the block's indentation; docstrings, hints and signatures around it stay as they are.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from course_nn.errors import CourseError
from course_nn.registry import Assignment

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


@dataclass(frozen=True)
class Block:
    start: int  # 0-based line of "# BEGIN SOLUTION"
    end: int  # 0-based line of "# END SOLUTION"
    indent: str
    owner: str  # "Class.method" or "function"


def _owners(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, 1-based, innermost last."""
    tree = ast.parse(source)
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
    visit(tree, "")
    return found


def find_blocks(source: str, filename: str = "<source>") -> list[Block]:
    lines = source.splitlines()
    owners = _owners(source)
    blocks: list[Block] = []
    open_at: int | None = None
    indent = ""
    for i, line in enumerate(lines):
        m = BEGIN.match(line)
        if m:
            if open_at is not None:
                raise CourseError(f"{filename}:{i + 1}: BEGIN SOLUTION inside another block (opened at line {open_at + 1})")
            open_at, indent = i, m.group("indent")
        elif END.match(line):
            if open_at is None:
                raise CourseError(f"{filename}:{i + 1}: END SOLUTION without a BEGIN SOLUTION")
            inside = [name for a, b, name in owners if a <= open_at + 1 <= b]
            if not inside:
                raise CourseError(f"{filename}:{open_at + 1}: a solution block must sit inside a function or method")
            blocks.append(Block(open_at, i, indent, inside[-1]))
            open_at = None
    if open_at is not None:
        raise CourseError(f"{filename}:{open_at + 1}: BEGIN SOLUTION is never closed with END SOLUTION")
    return blocks


def _task_label(owner: str, assignment: Assignment) -> str:
    parts = owner.split(".")
    for name in (parts[0], parts[-1]):
        try:
            return assignment.label(assignment.task(name))
        except KeyError:
            continue
    raise CourseError(f"solution block in {owner}: no task of {assignment.name} owns {parts[0]!r} "
                      "(add it to the registry, or as a task's extra name)")


def strip_solutions(source: str, assignment: Assignment, filename: str = "<source>") -> str:
    """The student version of ``source``: every solution block replaced by a NotImplementedError."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for block in find_blocks(source, filename):
        out += lines[pos:block.start]
        owner = block.owner.replace(".__init__", "").replace("<locals>.", "")
        message = f"{owner} is not implemented yet ({_task_label(block.owner, assignment)})"
        out.append(f"{block.indent}raise NotImplementedError(\"{message}\")\n")
        pos = block.end + 1
    out += lines[pos:]
    return "".join(out)


def solution_lines(source: str, filename: str = "<source>") -> set[str]:
    """The stripped, non-trivial lines inside solution blocks (what must never reach a student)."""
    lines = source.splitlines()
    found = set()
    for block in find_blocks(source, filename):
        for line in lines[block.start + 1:block.end]:
            text = line.strip()
            if len(text) >= 12 and not text.startswith("#"):
                found.add(text)
    return found
