"""Review flags: constructs worth a look by hand, for instructors only (never scored).

Independent of the gate: a line flagged here may be allowed (``enable_grad`` in hw2), and a file
the gate refuses is flagged too, so an instructor sees what was tried.
"""

from __future__ import annotations

import ast

from course_nn.grading.review.source import parse, walk
from course_nn.registry import Assignment

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


def _dotted_name(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


_ORDER = {key: i for i, key in enumerate(SUSPICIOUS)}


def _keys(name: str) -> list[str]:
    """The keys ``name`` is flagged for, in SUSPICIOUS's order: those it equals or extends by a dotted part
    (the name itself and its dotted prefixes), and "solutions" wherever it appears."""
    parts = name.split(".")
    found = {p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in _ORDER}
    if "solutions" in name:
        found.add("solutions")
    return sorted(found, key=_ORDER.__getitem__)


def review_flags(source: str, assignment: Assignment) -> dict[str, list[str]]:
    """Per task (and "*" for module level): suspicious constructs with their line numbers."""
    try:
        tree = parse(source)
    except (SyntaxError, ValueError):  # the gate refuses such a file; nothing to flag
        return {}
    owners: list[tuple[int, int, str]] = []
    for node in walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            try:
                task = assignment.task(node.name).name
            except KeyError:
                continue
            owners.append((node.lineno, node.end_lineno or node.lineno, task))
    flags: dict[str, list[str]] = {}
    for node in walk(tree):
        names: list[str] = []
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            names = [mod or ""] + [f"{mod}.{a.name}" if mod else a.name for a in node.names]
        elif isinstance(node, (ast.Attribute, ast.Name)):
            names = [_dotted_name(node)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "solutions" in node.value:
            names = ["solutions"]
        for name in names:
            for key in _keys(name):
                line = getattr(node, "lineno", 0)
                owner = next((t for a, b, t in owners if a <= line <= b), "*")
                entry = f"line {line}: {SUSPICIOUS[key]} (`{name}`)"
                if entry not in flags.setdefault(owner, []):
                    flags[owner].append(entry)
    return flags


