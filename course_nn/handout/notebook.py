"""The handout as a Jupyter/Colab notebook, generated from the same source as the .py handout.

    text = build(assignment, readme, stub, readme_dir, install="course-nn")   # the .ipynb as JSON text

The README becomes markdown cells (its LaTeX renders in Jupyter and Colab; pictures it links are
embedded as cell attachments). The stub (solutions/ with every solution block stubbed, exactly
what the .py handout holds) is split into one code cell per task — the module's imports travel
with the first task, code that belongs to no task with the task after it — each tagged
``course-nn:<hw>:<Task>`` (grading/submission.py reads those tags) and placed after the README's
section for that task, with a check cell after it. Then cells that train with the student's code,
draw the trace, open TensorBoard, and write the file to upload.

Deterministic: no timestamps, cell ids derived from the content's role, JSON written as nbformat
writes it (indent 1, sorted keys), so ``handout check`` compares it like any other file.
"""

from __future__ import annotations

import ast
import base64
import json
import re
from pathlib import Path

from course_nn.errors import CourseError
from course_nn.grading.submission import tag
from course_nn.registry import Assignment

MLP_TASKS = {"MLP", "sgd_step", "train_epoch"}  # what the MLP training cell runs
_HEADING = re.compile(r"^#{1,3} ")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+\.(?:png|jpg|jpeg|gif|svg))\)")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}


# ----------------------------------------------------------------------------- the stub, one cell per task

def code_parts(stub: str, assignment: Assignment, filename: str = "<stub>") -> list[tuple[str, str]]:
    """(task, code) in file order. The module docstring is left out (the README says it); the
    imports go with the first task, and code that belongs to no task with the next task's cell."""
    tree = ast.parse(stub)
    lines = stub.splitlines()
    body = list(tree.body)
    cursor = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        cursor = body[0].end_lineno or 0
        body = body[1:]
    spans: list[list] = []  # [task, first line, last line]
    for node in body:
        name = getattr(node, "name", None)
        try:
            owner = assignment.task(name).name if name else None
        except KeyError:
            owner = None
        if owner is None:
            continue
        if spans and spans[-1][0] == owner:
            spans[-1][2] = node.end_lineno
        elif any(s[0] == owner for s in spans):
            raise CourseError(f"{filename}: {owner}'s code is split by another task's; keep a task's code together "
                              "(each task is one notebook cell)")
        else:
            spans.append([owner, cursor, node.end_lineno])
        cursor = node.end_lineno or cursor
    if not spans:
        raise CourseError(f"{filename}: defines none of {assignment.name}'s tasks, so the notebook would have no graded cell")
    spans[-1][2] = len(lines)  # whatever follows the last task stays with it
    return [(task, "\n".join(lines[a:b]).strip("\n") + "\n") for task, a, b in spans]


# ----------------------------------------------------------------------------- the README, in sections

def _sections(readme: str) -> list[str]:
    """The README split before every heading of level 1-3 (outside code fences)."""
    out: list[list[str]] = [[]]
    fenced = False
    for line in readme.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and _HEADING.match(line) and any(s.strip() for s in out[-1]):
            out.append([])
        out[-1].append(line)
    return ["\n".join(s).strip("\n") for s in out if any(x.strip() for x in s)]


def _task_of_section(text: str, assignment: Assignment) -> str | None:
    """The task a section is about: its heading names the task's pytest marker (``task1_3``)."""
    heading = text.splitlines()[0]
    for t in assignment.tasks:
        if re.search(rf"\b{re.escape(assignment.marker(t))}\b", heading):
            return t.name
    return None


def _with_attachments(text: str, folder: Path) -> tuple[str, dict]:
    """Pictures the markdown links (relative to ``folder``) embedded as cell attachments."""
    attachments: dict[str, dict] = {}

    def embed(m: re.Match) -> str:
        path = (folder / m.group("path")).resolve()
        if not path.is_file():
            return m.group(0)
        attachments[path.name] = {_MIME[path.suffix.lower()]: base64.b64encode(path.read_bytes()).decode("ascii")}
        return f"![{m.group('alt')}](attachment:{path.name})"

    return _IMAGE.sub(embed, text), attachments


# ----------------------------------------------------------------------------- cells

def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _markdown(cell_id: str, text: str, folder: Path | None = None) -> dict:
    attachments: dict = {}
    if folder is not None:
        text, attachments = _with_attachments(text, folder)
    cell = {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _lines(text.strip("\n"))}
    if attachments:
        cell["attachments"] = attachments
    return cell


def _code(cell_id: str, text: str, metadata: dict | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": metadata or {},
            "outputs": [], "source": _lines(text.strip("\n"))}


def _install_cell(install: str) -> dict:
    return _code("colab-install", f'''\
# On Google Colab this installs the course package (the course sets the link); elsewhere it does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", {install!r}]).returncode:
        raise SystemExit("could not install the course package ({install}); ask the course staff for the link")
    import importlib

    importlib.invalidate_caches()  # import what pip just installed without restarting the runtime
''')


def _how_to(a: Assignment, badge: str) -> str:
    return (f"{badge}\n\n" if badge else "") + f"""\
**Working in this notebook.** Run the cells from the top: on Google Colab the first cell installs the
course package (in Jupyter, install `course-nn[notebook]` first); the GPU is used when there is one.
Write each task in its cell marked **graded** — the grader takes exactly those cells (their tag
`{tag(a.name, '<Task>')}` marks them) as `{a.submission}` — and run the check cell under it after
every change: it prints the table `course-nn check` prints, for the code you ran. Your own cells are
never graded. The last cell writes `upload/{a.submission}`, the file to upload."""


def _closing_cells(a: Assignment, names: set[str]) -> list[dict]:
    """Training, the trace, TensorBoard and the file to upload, for whatever the tasks make possible."""
    from course_nn.impl import REQUIRED  # the Functions the trainer builds its networks from

    cells: list[dict] = []
    if set(REQUIRED) <= names:
        cells += [_markdown("md-train", """\
## In the notebook: train a network with your Functions

The cell below trains the network of `course-nn train` (a 2-64-64-2 ReLU MLP on the spiral, plain
SGD) built from **your** `Linear`, `ReLU` and `CrossEntropy` for 40 epochs, then shows the loss and
accuracy curves and the decision boundary. With correct Functions it reaches about 97% validation
accuracy (99% with `course-nn train`'s 150 epochs: `course.train(task="spiral", epochs=150)`), the
same curve as torch's built-ins from the same seed. The run is logged to `runs/` for TensorBoard."""),
                  _code("train", 'course.train(task="spiral", epochs=40)'),
                  _markdown("md-trace", """\
## In the notebook: your backward, drawn

`course.trace()` runs one forward and one backward pass through a tiny network of your Functions,
calls every node's `backward` itself and compares each node with torch's (`course-nn trace`): green
equals torch, red is wrong here, orange only inherits a red node's error."""),
                  _code("trace", 'course.trace(net="mlp")')]
    elif MLP_TASKS <= names:
        cells += [_markdown("md-train", """\
## In the notebook: train your MLP

The cell below builds your `MLP` (2-64-64-2, ReLU), trains it on the spiral for 30 epochs with your
`train_epoch` and `sgd_step` (plain SGD, learning rate 0.3) and cross-entropy, and shows the loss and
accuracy curves and the decision boundary. A correct MLP reaches about 98% validation accuracy here;
the grader asks for at least 90% on its own spiral. The run is logged to `runs/` for TensorBoard."""),
                  _code("train", "course.train_mlp()")]
    cells += [_markdown("md-tensorboard", """\
## TensorBoard, inside the notebook

Loss and accuracy curves, weight and gradient histograms, and the decision boundary of every run in
`runs/`. (Outside a notebook: `tensorboard --logdir runs`.)"""),
              _code("tensorboard", "%load_ext tensorboard\n%tensorboard --logdir runs"),
              _markdown("md-submit", f"""\
## Submit

The cell below writes `upload/{a.submission}` from the graded cells as you last ran them and says
what is in it. Upload that file to Gradescope (or upload this notebook: its graded cells are graded
the same way). `course-nn submit {a.folder}.ipynb` writes the same file from the saved notebook."""),
              _code("submit", "course.submit()")]
    return cells


def badge_line(a: Assignment, github: str) -> str:
    """The "Open in Colab" badge (Markdown) for the notebook in ``github`` = OWNER/REPO[@BRANCH]."""
    repo, _, branch = github.partition("@")
    url = (f"https://colab.research.google.com/github/{repo}/blob/{branch or 'main'}/"
           f"assignments/{a.folder}/{a.folder}.ipynb")
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def build(a: Assignment, readme: str, stub: str, readme_dir: Path, install: str, github: str = "") -> str:
    """The notebook handout of ``a`` as JSON text (what sync writes to assignments/<hw>/<hw>.ipynb)."""
    parts = code_parts(stub, a, f"{a.folder}/{a.submission}")
    sections = _sections(readme)
    owner = [_task_of_section(s, a) for s in sections]
    last_task_section = max((i for i, t in enumerate(owner) if t), default=len(sections) - 1)
    cells: list[dict] = []
    pending = list(parts)

    def emit_parts(until: str | None) -> None:
        while pending:
            task, code = pending.pop(0)
            number = a.task(task).number
            cells.append(_markdown(f"md-graded-{task}", f"**Graded cell: task {number}, `{task}`.** "
                                                        "Write your code below; the cell after it checks it."))
            cells.append(_code(f"code-{task}", code, {"deletable": False, "tags": [tag(a.name, task)]}))
            cells.append(_code(f"check-{task}", f'course.check("{task}")'))
            if task == until:
                return

    for i, text in enumerate(sections):
        cells.append(_markdown(f"md-{i + 1}", text, readme_dir))
        if i == 0:
            cells += [_markdown("md-how", _how_to(a, badge_line(a, github) if github else "")),
                      _install_cell(install),
                      _code("setup", f'from course_nn import notebook as course  # check, train, trace, submit\n\n'
                                     f'course.setup("{a.name}")')]
        if owner[i] is not None and any(t == owner[i] for t, _ in pending):
            emit_parts(owner[i])
        if i == last_task_section:
            emit_parts(None)
    cells += _closing_cells(a, {t.name for t in a.tasks})
    nb = {
        "cells": cells,
        "metadata": {
            "colab": {"provenance": [], "toc_visible": True},
            "course_nn": {"assignment": a.name, "generated": f"by 'course-nn handout sync' from "
                                                             f"solutions/{a.folder}/; do not edit by hand"},
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def cell_text(notebook_json: str) -> str:
    """Every cell's source (and text outputs) of a notebook, one after another: what a reader sees
    (the bundle's leak check reads this, not the JSON's escaped strings)."""
    nb = json.loads(notebook_json)
    out = []
    for cell in nb.get("cells", []):
        out.append("".join(cell.get("source", [])))
        for o in cell.get("outputs", []):
            out.append("".join(o.get("text", [])))
    return "\n".join(out)
