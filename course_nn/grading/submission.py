"""What was submitted -> the Python source that is graded: one place for every entry point.

``course-nn check``, ``grade``, ``grade-batch``, Gradescope and ``course-nn submit`` read a
submission here, so the static gate, the sandbox, the status and the export all see the same
UTF-8 text:

    src = read(Path("functions.py"), assignment)     # or hw1_autograd.ipynb
    src.text      # the Python source graded (what the sandbox receives, as UTF-8)
    src.notes     # for the student: how it was read (UTF-16 decoded, notebook cells left out)
    src.problem   # one line when nothing can be graded (the student's import error), else ""

A ``.py`` file: UTF-8 with or without a byte-order mark, UTF-16/UTF-32 with a BOM (Windows
Notepad), UTF-16 without one (told by its zero bytes), or a PEP 263 ``coding:`` line. Anything else
(bytes that are not text in that encoding, a null byte) is a problem that says "save the file as
UTF-8" — never a traceback.

A notebook: the code cells the handout marked with the tag ``course-nn:<hw>:<Task>`` in the cell's
metadata (``tag``; a student's edits keep it), in notebook order, become the assignment's file
(``assemble``). Unmarked cells, IPython magics and shell escapes are left out and the notes say
so; a notebook that is not valid JSON, has no marked cell, or marks one task twice is a problem.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import io
import json
import re
import tempfile
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from course_nn.registry import Assignment

NOTEBOOK = ".ipynb"
SUFFIXES = (".py", NOTEBOOK)  # what a submission may be
TAG_PREFIX = "course-nn:"
ASSEMBLED = "assembled by course-nn"  # the first line of every file assembled from notebook cells
SAVE_AS_UTF8 = "save the file as UTF-8 (your editor's 'Save with Encoding' or 'Save As' -> UTF-8) and submit again"


@dataclass(frozen=True)
class Source:
    text: str
    notes: tuple[str, ...] = ()
    problem: str = ""


def tag(assignment: str, task: str) -> str:
    """The cell tag that marks a task's graded cell, e.g. ``course-nn:hw1:Sigmoid``."""
    return f"{TAG_PREFIX}{assignment}:{task}"


def parse_tag(text: str) -> tuple[str, str] | None:
    """(assignment, task) of a course tag, else None."""
    if not text.startswith(TAG_PREFIX) or text.count(":") != 2:
        return None
    _, hw, task = text.split(":")
    return (hw, task) if hw and task else None


def read(path: str | Path, assignment: Assignment | None) -> Source:
    """The graded source of a submission file (``assignment`` None: a notebook's own, from its tags)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        return Source("", problem=f"{path.name} cannot be read ({err.strerror or err})")
    if path.suffix == NOTEBOOK:
        return read_notebook(raw, path.name, assignment)
    return decode(raw, path.name)


@contextlib.contextmanager
def as_file(path: Path, source: Source, filename: str) -> Iterator[Path]:
    """A file that holds exactly ``source.text`` as UTF-8: ``path`` itself when it already does,
    else a temporary ``filename`` (for code that imports by path, like the in-process check)."""
    try:
        same = path.suffix == ".py" and path.read_bytes() == source.text.encode("utf-8")
    except OSError:
        same = False
    if same:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="course-nn-source-") as tmp:
        target = Path(tmp) / filename
        target.write_text(source.text, encoding="utf-8")
        yield target


# ----------------------------------------------------------------------------- .py: encodings

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _line_of(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1


def _utf16_without_bom(raw: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" for text whose every other byte is zero (mostly-ASCII UTF-16)."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    even, odd = raw[0::2], raw[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _not_utf8(name: str, raw: bytes, err: UnicodeDecodeError, encoding: str) -> Source:
    what = "UTF-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else f"{encoding} (as it declares)"
    return Source("", problem=f"{name} is not {what} text: byte 0x{raw[err.start]:02x} on line "
                              f"{_line_of(raw, err.start)} cannot be read; {SAVE_AS_UTF8}")


def _without_cookie(text: str) -> str:
    """The text with its PEP 263 coding line made inert: the graded copy is UTF-8 whatever it said."""
    # Python's lines, not str.splitlines' (which also splits at \x0c, \x1c, \u2028, ...): a coding line
    # Python reads as line 2 must not hide as line 3 here (the gate refuses such a file either way).
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    for i in range(min(2, len(lines))):
        if _COOKIE.match(lines[i].encode("utf-8", "replace")):
            lines[i] = "# (encoding line removed: graded as UTF-8)\n"
    return "".join(lines)


def decode(raw: bytes, name: str) -> Source:
    """The text of a .py submission in any encoding Python or Windows editors write, as a Source."""
    notes: tuple[str, ...] = ()
    for bom, codec, label in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)  # the codec reads the BOM and drops it
            except UnicodeDecodeError as err:
                return _not_utf8(name, raw, err, label)
            note = f"{name} was saved as {label} (with a byte-order mark); it was graded as that text. Save it as UTF-8 next time"
            return _checked(_without_cookie(text), name, (note,))
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]  # Python accepts it; nothing to tell the student
    elif b"\x00" in raw:
        codec = _utf16_without_bom(raw)
        if codec is not None:
            text = raw.decode(codec, errors="replace")
            note = f"{name} was saved as UTF-16 (no byte-order mark); it was graded as that text. Save it as UTF-8 next time"
            return _checked(_without_cookie(text), name, (note,))
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
    except SyntaxError as err:  # a coding line naming an encoding Python does not know
        return Source("", problem=f"{name} declares an encoding Python does not know ({err.msg}); {SAVE_AS_UTF8}")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        return _not_utf8(name, raw, err, encoding)
    if codecs.lookup(encoding).name != "utf-8":
        text = _without_cookie(text)
        notes = (f"{name} declares the encoding {encoding}; it was graded as that text. Save it as UTF-8 next time",)
    return _checked(text, name, notes)


def _checked(text: str, name: str, notes: tuple[str, ...]) -> Source:
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        return Source("", notes, f"{name} contains a null byte on line {line}, so it is not plain text: {SAVE_AS_UTF8}")
    try:
        text.encode("utf-8")  # what the sandbox receives; a notebook's JSON may hold a lone "\ud800"
    except UnicodeEncodeError as err:
        line = text[:err.start].count("\n") + 1
        return Source("", notes, f"{name} contains a character that is not text (U+{ord(text[err.start]):04X}) on "
                                 f"line {line}: {SAVE_AS_UTF8}")
    return Source(text, notes)


# ----------------------------------------------------------------------------- notebook cells -> Python

#: Cell magics whose body is Python that runs as written (its first line is left out).
PYTHON_BODY_MAGICS = frozenset({"capture", "time", "timeit", "prun"})
_MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:%|!|(?:[\w.]+(?:[ \t]*,[ \t]*[\w.]+)*[ \t]*=[ \t]*[%!]))")
_HELP_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:\?{1,2}[\w.]+|[\w.()]+\?{1,2})[ \t]*$")


def cell_python(source: str) -> tuple[str | None, list[str]]:
    """A code cell as plain Python, and the IPython lines left out of it.

    Returns (None, [first line]) for a cell whose cell magic takes a body that is not Python
    (``%%bash``, ``%%writefile``). Line magics, shell escapes and ``name?`` help become ``pass`` at
    their indentation, so blocks stay valid and line numbers stay the same.
    """
    lines = source.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    dropped: list[str] = []
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_BODY_MAGICS:
            return None, [first]
        i = next(i for i, ln in enumerate(lines) if ln.strip())
        dropped.append(first)
        lines[i] = ""
    text = "\n".join(lines)
    try:
        ast.parse(text)
        return text + "\n", dropped
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass  # a magic, a shell line, or the student's own error (kept: the grader says where)
    out = []
    for line in lines:
        m = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
        if m and line.strip():
            dropped.append(line.strip())
            out.append(f"{m.group('indent')}pass  # IPython line left out")
        else:
            out.append(line)
    return "\n".join(out) + "\n", dropped


def _hoist_future(python: str) -> tuple[str, list[str]]:
    """``from __future__`` imports out of a cell (they must open the file), as a comment in place."""
    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the grader reports it
        return python, []
    lines = python.splitlines()
    found = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            found.append(ast.get_source_segment(python, node) or "")
            start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
            lines[start] = "# (a from __future__ import: moved to the top of the file)"
            for k in range(start + 1, end + 1):
                lines[k] = ""
    return "\n".join(lines) + "\n", found


def assemble(cells: list[tuple[str, str]], header: str) -> str:
    """One Python file from (label, python) cells, in order: ``header`` as comments, the cells'
    ``from __future__`` imports first, then each cell under a comment naming it."""
    futures: list[str] = []
    body: list[str] = []
    for label, python in cells:
        python, found = _hoist_future(python)
        futures += [f for f in found if f not in futures]
        body.append(f"# ---- {label} ----\n{python.rstrip()}\n")
    head = "".join(f"# {line}\n" for line in header.splitlines())
    return head + "".join(f + "\n" for f in futures) + "\n" + "\n\n".join(body)


# ----------------------------------------------------------------------------- .ipynb

def _cells(raw: bytes, name: str) -> tuple[list[dict] | None, str]:
    """The notebook's cells, or (None, why it is not a notebook)."""
    try:
        nb = json.loads(raw)
    except UnicodeDecodeError:
        return None, f"{name} is not a notebook: it is not UTF-8 JSON text"
    except (ValueError, RecursionError) as err:
        where = f" at line {err.lineno} column {err.colno} ({err.msg})" if isinstance(err, json.JSONDecodeError) else ""
        return None, (f"{name} is not a notebook: its JSON is broken{where}; open it in Jupyter and save it "
                      "again, or upload the .py file its last cell writes")
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return None, f"{name} is not a Jupyter notebook (nbformat 4: a JSON object with a list of cells)"
    return cells, ""


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _tags(cell: dict) -> list[tuple[str, str]]:
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [p for t in tags if isinstance(t, str) and (p := parse_tag(t))] if isinstance(tags, list) else []


def notebook_assignment(path: str | Path) -> str | None:
    """The assignment a notebook's graded cells belong to (one, from their tags), else None."""
    try:
        cells, _ = _cells(Path(path).read_bytes(), Path(path).name)
    except OSError:
        return None
    found = {hw for c in cells or [] for hw, _ in _tags(c)}
    return found.pop() if len(found) == 1 else None


def _marked(cells: list[dict], hw: str, name: str) -> tuple[list[tuple[int, str, dict]], str]:
    """(cell number, task, cell) of every cell marked for ``hw``, or a problem line."""
    marked: list[tuple[int, str, dict]] = []
    where: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        for tag_hw, task in _tags(cell):
            if tag_hw != hw:
                continue
            if task in where:
                return [], (f"{name} marks {task} twice (cells {where[task]} and {number}: a copied cell keeps its "
                            f"tag); delete one copy, or remove the tag {tag(hw, task)} from it, and submit again")
            where[task] = number
            marked.append((number, task, cell))
    if not marked:
        others = sorted({t_hw for c in cells for t_hw, _ in _tags(c)})
        if others:
            return [], (f"{name} is {' and '.join(others)}'s notebook (its graded cells are tagged "
                        f"{TAG_PREFIX}{others[0]}:...), not {hw}'s; submit it to {others[0]}")
        return [], (f"{name} has no cell marked as graded for {hw} (the course's notebook tags them "
                    f"{TAG_PREFIX}{hw}:<name>); write your code in the course's notebook, or upload the .py file")
    return marked, ""


def read_notebook(raw: bytes, name: str, assignment: Assignment | None) -> Source:
    """The marked cells of a notebook, assembled into the assignment's file."""
    cells, why = _cells(raw, name)
    if cells is None:
        return Source("", problem=why)
    hw = assignment.name if assignment is not None else None
    if hw is None:
        found = sorted({h for c in cells for h, _ in _tags(c)})
        hw = found[0] if len(found) == 1 else ""
    marked, why = _marked(cells, hw, name)
    if why:
        return Source("", problem=why)
    parts, notes = [], []
    for number, task, cell in marked:
        if cell.get("cell_type") != "code":
            notes.append(f"cell {number} ({task}) is not a code cell any more, so it was not graded")
            continue
        python, dropped = cell_python(_text(cell.get("source")))
        if python is None:
            notes.append(f"cell {number} ({task}) starts with the cell magic {dropped[0]!r}, whose body is not "
                         "Python, so it was not graded")
            continue
        if dropped:
            listed = ", ".join(f"`{d[:40]}`" for d in dropped[:3]) + (" ..." if len(dropped) > 3 else "")
            notes.append(f"left out of {task}'s cell (IPython, not Python): {listed}")
        parts.append((f"cell {number}: {task}", python))
    graded = {task for _, task, _ in marked}
    unmarked = sum(1 for c in cells if c.get("cell_type") == "code" and not _tags(c))
    filename = assignment.submission if assignment is not None else "the .py file"
    notes.insert(0, f"graded the {len(parts)} cells of {name} marked as graded, as {filename}"
                    + (f"; the {unmarked} other code cells (checks, training, your own experiments) were left "
                       "out and cost nothing"
                       if unmarked else ""))
    if assignment is not None:
        missing = [t.name for t in assignment.tasks if t.name not in graded]
        if missing:
            notes.append(f"no cell is marked for {', '.join(missing)} (deleted, or its tag removed?), so "
                         f"{'it is' if len(missing) == 1 else 'they are'} missing from the graded file")
    text = assemble(parts, f"{filename}, {ASSEMBLED} from the cells {name} marks as graded\n"
                           "(in notebook order; unmarked cells, IPython magics and shell lines left out)")
    return _checked(text, name, tuple(notes))
