"""The handouts' "What your file may use" text, generated from the registry's allow-list.

The same table drives the static gate (course_nn/grading/review/), so the handout, ``course-nn
check`` and the grader cannot disagree. ``handout sync`` fills a marked region of each README.md
and of the stub's module docstring, in solutions/ and assignments/ alike; ``handout check`` reports
a stale region as a diff.

Markers: in Markdown, the lines ``<!-- BEGIN RULES ... -->`` and ``<!-- END RULES -->``; in a
module docstring, the paragraph that starts with ``DOC_HEAD`` (up to the next blank line).
"""

from __future__ import annotations

import textwrap

from course_nn.errors import CourseError
from course_nn.grading.review.shortcuts import (
    AUTOGRAD,
    AUTOGRAD_CALLABLES,
    AUTOGRAD_METHODS,
    NN_CLASSES,
    canonical,
)
from course_nn.registry import Assignment, Task

MD_BEGIN = "<!-- BEGIN RULES: generated from the course registry by 'course-nn handout sync'; do not edit -->"
MD_END = "<!-- END RULES -->"
DOC_HEAD = "What this file may use (generated from the course registry; README.md lists every name):"
WIDTH = 100


def _code(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _op(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    return NN_CLASSES.get(short.lower(), "") if short[:1].isupper() else canonical(short)


def shortcuts(assignment: Assignment, task: Task) -> list[str]:
    """Every listed name that is this task's own built-in."""
    own = {canonical(n) for n in task.forbidden} - AUTOGRAD
    policy = assignment.rules
    names = [q for q in sorted(policy.qualified_names()) if _op(q) in own]
    return names + [f".{a}()" for a in sorted(policy.attribute_names()) if canonical(a) in own]


def autograd_names(assignment: Assignment) -> list[str]:
    """autograd's entry points, when the assignment forbids them inside its Functions."""
    if assignment.autograd_allowed or not any(t.forbidden & AUTOGRAD for t in assignment.tasks):
        return []
    return sorted(AUTOGRAD_CALLABLES) + [f".{a}()" for a in sorted(AUTOGRAD_METHODS)]


def _groups(assignment: Assignment) -> list[tuple[str, list[str]]]:
    """(title, qualified names) in the registry's order, one entry per title."""
    out: dict[str, list[str]] = {}
    for g in assignment.rules.callables:
        out.setdefault(g.title, []).extend(g.qualified())
    return list(out.items())


def markdown(assignment: Assignment) -> str:
    """The full section body for README.md."""
    p = assignment.rules
    sub = assignment.submission
    tops = [m for m in p.imports if m != "__future__" and "." not in m]
    lines = [
        f"The autograder reads `{sub}` before it runs anything and refuses whatever is not on these lists "
        "(they are generated from the course's registry, so this page, `course-nn check` and the grader "
        "agree). A refused line costs **every check of every task** — code that could reach the grader's "
        "process could forge any result — and the message names the line, says why, and what to write "
        "instead. `course-nn check` lists every such line at once.",
        "",
        f"**Imports:** {_code(tops)} and their submodules "
        f"{_code(m for m in p.imports if '.' in m)}, and `from __future__ import annotations`. "
        "A listed name may be imported by name, under whichever of these modules holds it "
        "(`from torch.nn.parameter import Parameter`). No other module, no `from x import *`, no files of "
        "your own.",
        "",
        "**Functions, classes and constants** (and the same objects reached under another listed module):",
        "",
    ]
    for title, names in _groups(assignment):
        lines.append(f"- {title}: {_code(names)}")
    lines += ["", "**Attributes and methods** of tensors, numpy arrays, Modules, autograd's ctx and plain Python "
              "values:", ""]
    for g in p.attributes:
        lines.append(f"- {g.title}: {_code(g.names)}")
    lines += ["", f"**Built-ins:** {_code(p.builtins)} and the built-in exception classes. `type(x)` only in a "
              "comparison (`type(x) is int`); `super()` as `super().method(...)`.", "",
              "**Your own classes:** on `self` (or `ctx`) inside their methods, anything your classes set or "
              "define (`self.weight_1 = ...`, `ctx.has_bias = ...`, a method, a dataclass field); on a "
              "variable bound directly to one of them (`cfg = Config(...)`), its fields and methods. "
              "Numbered attributes: `setattr(self, f\"weight_{d}\", ...)` in `__init__`, then "
              "`getattr(self, f\"weight_{d}\")`. A class is used by calling it, subclassing it, naming it "
              "in `isinstance` or through `.apply`; it is not passed around or stored (its methods could "
              "then run on another object)."]
    if p.handed:
        lines += ["", "**Choosing a given Function by name:** `getattr(functions, NAME)` where `NAME` can only "
                  f"be one of {_code(p.handed)}, written out in the file: a string, `\"ReLU\" if a == \"relu\" "
                  "else \"Sigmoid\"`, a dict of such strings indexed "
                  "(`getattr(self.functions, {\"relu\": \"ReLU\", \"sigmoid\": \"Sigmoid\"}[activation])`), "
                  "or a variable or `self.` attribute only ever set to one of those. A name computed any other "
                  "way (`activation.capitalize()`) is refused."]
    lines += ["", "**Not allowed, and what to write instead:**", ""]
    for r in p.refusals:
        lines.append(f"- {_code(r.names)}: {r.reason}; {r.instead}.")
    lines.append("- double-underscore names (`x.__class__`, `__dict__`, `__import__`) and the interpreter's frame, "
                 "code, generator and traceback attributes (`gi_frame`, `f_back`, `co_code`, `tb_frame`), however "
                 "they are spelt; `getattr`/`setattr`/`hasattr` with other names; `type(name, bases, dict)`; "
                 "`\"{0.x}\".format(...)` fields that read attributes or items (use an f-string); metaclasses, "
                 "class keywords and class decorators other than `@dataclass`; `async`; a module used as a value "
                 "(`m = torch`); a `coding:` line other than UTF-8.")
    tasks = [(t, shortcuts(assignment, t)) for t in assignment.tasks]
    tasks = [(t, names) for t, names in tasks if names]
    autograd = autograd_names(assignment)
    if tasks or autograd:
        lines += ["", "**Shortcuts** are allowed in the file but cost the Function they serve its compliance "
                  "credit and the credit gated on it (see Rules): inside a Function's class, or in a helper "
                  "function that only its `forward`/`backward` call, any of these; anywhere else in the file, "
                  "a Function's own built-in:", ""]
        for t, names in tasks:
            lines.append(f"- `{t.name}`: {_code(names)}")
        if autograd:
            lines.append(f"- every Function, autograd: {_code(autograd)}")
    lines += ["", "Code under `if __name__ == \"__main__\":` never runs under grading and is not checked: keep "
              "your own experiments there or in a separate script."]
    return "\n".join(lines)


def docstring(assignment: Assignment) -> str:
    """The short paragraph for the stub's module docstring."""
    p = assignment.rules
    tops = [m for m in p.imports if m != "__future__" and "." not in m]
    parts = [f"imports: {', '.join(tops)} (and listed submodules: torch.nn.functional, numpy.linalg, ...).",
             "calls and attributes: tensor and array math, Python's arithmetic helpers and built-ins, "
             "your own classes' attributes on self/ctx; never files, eval/exec/open, double-underscore or "
             "frame names, or modules as values. Anything else costs every check."]
    if p.handed:
        parts.append(f"choosing a given Function by name: getattr(functions, NAME) with NAME one of "
                     f"{', '.join(p.handed)}, written out in this file.")
    if any(shortcuts(assignment, t) for t in assignment.tasks) or autograd_names(assignment):
        parts.append("shortcuts (cost that Function its credit): each Function's own built-in under any alias "
                     "(torch.sigmoid, x.sigmoid(), torch.special.expit, nn.Sigmoid, ...) and autograd.")
    body = [DOC_HEAD] + [textwrap.fill(f"- {part}", WIDTH, subsequent_indent="  ") for part in parts]
    return "\n".join(body)


def fill(text: str, assignment: Assignment, kind: str, filename: str = "<file>") -> str:
    """``text`` with its rules region regenerated (unchanged when it has none)."""
    lines = text.split("\n")
    if kind == "md":
        if MD_BEGIN not in lines:
            return text
        start = lines.index(MD_BEGIN)
        if MD_END not in lines[start:]:
            raise CourseError(f"{filename}: {MD_BEGIN!r} is never closed by {MD_END!r}")
        end = lines.index(MD_END, start)
        return "\n".join(lines[:start + 1] + markdown(assignment).split("\n") + lines[end:])
    if DOC_HEAD not in lines:
        return text
    start = lines.index(DOC_HEAD)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[:start] + docstring(assignment).split("\n") + lines[end:])
