"""The static gate: what a graded file may contain, checked on its source before it runs.

Nothing here executes student code. The gate reads the submission's syntax tree in the trusted
parent and decides, construct by construct, against an allow-list (the assignment's policy in the
registry), whether the file stays inside a small language that cannot reach the process it runs
in. The language is written out, with the argument for why it is closed, in docs/security.md
("The gate's language").

- **escape** (``Violation.escape``): a construct outside the language — an unlisted import, call or
  attribute, an introspection name (``gi_frame``, ``__class__``), a computed attribute name, a
  module used as a value, ... Code that could reach the process could forge any result, so *every*
  check of every task loses its credit; each message quotes the line, says why and what to write
  instead, and every such line is named at once.
- **shortcut**: torch's own version of what a Function implements (any alias), or autograd in
  hw1. That Function loses its compliance and gated credit (shortcuts.py).

The modules, by concept: ``scopes`` (which binding a name refers to), ``index`` (the registry's
allow-list resolved against the installed modules), ``resolve`` and ``values`` (what a name or
expression is), ``classes`` (the file's own classes and their trusted ``self``/``ctx``), ``families``
(which classes share objects: handed receivers, names a listed base serves), ``bases`` (what a class derives from),
``rules``/``expressions``/``dynamic`` (the rules, one method per construct), ``messages`` (their
words), ``shortcuts``, ``verdict`` and ``flags`` (instructor-only review flags).

Why not RestrictedPython: it rewrites code to call guard hooks *at run time, inside the process
that runs the code* — exactly the boundary a submission can reach. The gate only has to reject
source; the runtime recorders in the child stay, to teach honest students.
"""

from __future__ import annotations

from course_nn.grading.review.flags import review_flags
from course_nn.grading.review.rules import Gate
from course_nn.grading.review.shortcuts import banned_at_runtime, canonical, recorded, runtime_shortcuts
from course_nn.grading.review.source import parse
from course_nn.grading.review.verdict import Verdict, Violation
from course_nn.registry import Assignment

__all__ = ["Verdict", "Violation", "banned_at_runtime", "canonical", "check", "parse", "recorded", "review_flags",
           "runtime_shortcuts"]


# A graded file is a few hundred lines; the gate runs in the grader, not in the sandbox, so a file
# big enough to keep it busy for minutes is refused instead of read.
MAX_SOURCE = 500_000


def _unreadable(why: str) -> Verdict:
    return Verdict([Violation(0, "", why, True, None)])


def check(source: str, assignment: Assignment) -> Verdict:
    """Run the gate over a submission's source. Never raises for anything a file contains."""
    if len(source) > MAX_SOURCE:
        return _unreadable(f"the file has {len(source)} characters, more than a graded file may "
                           f"({MAX_SOURCE}): submit only your own code")
    try:
        tree = parse(source)
    except SyntaxError:
        return Verdict(syntax_error=True)  # the import fails in the child and says why
    except ValueError as err:
        return _unreadable(str(err))
    try:
        gate = Gate(source, tree, assignment)
        found = gate.run(tree)
    except (RecursionError, MemoryError):  # a backstop: MAX_DEPTH keeps the passes well inside the limit
        return _unreadable("the file nests expressions too deeply to be checked")
    return Verdict(found, all_ops=gate.all_ops, reach=gate.reach,
                   task_names=frozenset(n for t in assignment.tasks for n in (t.name, *t.extra)))
