"""What was submitted -> the source that is graded (grading/submission.py), in every entry point.

Encodings: a UTF-16 file with a BOM (Windows Notepad) is still the student's code and earns what
the UTF-8 file earns; a null byte or bytes that are not text are the student's import error with
"save the file as UTF-8", one line, never a traceback or a grader error.
Notebooks: exactly the cells the handout tagged are graded, like the same code as a .py upload;
magics, shell lines and unmarked cells are left out (and cost nothing); a broken notebook is one line.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_notebook_handout import committed, completed

from course_nn import registry
from course_nn.grading import engine, markdown, status, submission

ROOT = Path(__file__).resolve().parents[1]
HW1 = registry.get("hw1")
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
TEXT = SOLUTION.read_text()
NULL_LINE = TEXT[:TEXT.index("import torch\n")].count("\n") + 1
LATIN_LINE = TEXT[:TEXT.index("Jacobian")].count("\n") + 1
RUN = dict(seed=7, run_id="0123456789abcdef", isolate=False)  # the same hidden cases for every grading


def course_nn(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_nn", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COURSE_NN_ROOT": str(ROOT)}, timeout=600)


def points(result) -> dict:
    return {t: round(e, 6) for t, (e, _) in result.points_by_task().items()}


@pytest.fixture(scope="module")
def reference():
    return engine.grade(SOLUTION, HW1, **RUN)


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("data", "note"), [
    (TEXT.encode("utf-16"), "UTF-16 (with a byte-order mark)"),  # Windows Notepad's "Unicode"
    (TEXT.encode("utf-16-le"), "UTF-16 (no byte-order mark)"),
    (TEXT.encode("utf-32"), "UTF-32"),
    (b"\xef\xbb\xbf" + TEXT.encode(), None),  # UTF-8 with a BOM: Python's own, nothing to say
])
def test_a_decodable_file_is_the_students_code(tmp_path, data, note):
    path = tmp_path / "functions.py"
    path.write_bytes(data)
    src = submission.read(path, HW1)
    assert src.text == TEXT and not src.problem
    assert (note in src.notes[0]) if note else src.notes == ()


def test_a_coding_line_is_honoured_and_the_graded_copy_is_utf8(tmp_path):
    path = tmp_path / "functions.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nNAME = 'Müller'\n".encode("latin-1"))
    src = submission.read(path, HW1)
    assert "NAME = 'Müller'" in src.text and "coding: latin-1" not in src.text
    assert "declares the encoding iso-8859-1" in src.notes[0]  # latin-1, by its standard name


@pytest.mark.parametrize(("data", "needle"), [
    (TEXT.encode().replace(b"import torch\n", b"import torch\x00\n", 1), f"null byte on line {NULL_LINE}"),
    (TEXT.encode().replace(b"Jacobian", "Jacobi\xe9n".encode("latin-1"), 1),
     f"not UTF-8 text: byte 0xe9 on line {LATIN_LINE}"),
])
def test_an_undecodable_file_is_one_line_saying_save_as_utf8(tmp_path, data, needle):
    path = tmp_path / "functions.py"
    path.write_bytes(data)
    src = submission.read(path, HW1)
    assert needle in src.problem and "save the file as UTF-8" in src.problem and "\n" not in src.problem
    result = engine.grade(path, HW1, **RUN)
    assert result.score == 0
    state = status.of_result(result)
    assert state.name == status.IMPORT_ERROR and needle in state.reason


def test_utf16_with_a_bom_earns_what_utf8_earns(tmp_path, reference):
    path = tmp_path / "functions.py"
    path.write_bytes(TEXT.encode("utf-16"))
    result = engine.grade(path, HW1, **RUN)
    assert points(result) == points(reference) and result.score == pytest.approx(100)
    assert "UTF-16" in result.source_notes[0]


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_sandbox_grades_the_decoded_text_and_check_grade_batch_say_one_line(tmp_path):
    """Also: grade-batch takes a student's notebook like a .py file."""
    utf16, null = tmp_path / "utf16" / "functions.py", tmp_path / "null" / "functions.py"
    write_nb(tmp_path, completed(committed("hw1"), "hw1"), "nb.ipynb")  # a student's notebook, straight in the folder
    for path, data in ((utf16, TEXT.encode("utf-16")), (null, TEXT.encode().replace(b"import torch\n", b"\x00\n", 1))):
        path.parent.mkdir()
        path.write_bytes(data)
    graded = course_nn("grade", str(utf16), "-a", "hw1", "--json", str(tmp_path / "r.json"))
    assert graded.returncode == 0, graded.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == pytest.approx(100) and "UTF-16" in data["output"]  # the student is told, at the top
    checked = course_nn("check", str(null))
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    assert checked.stdout.startswith("import error: functions.py contains a null byte")
    book = tmp_path / "grades.csv"
    batch = course_nn("grade-batch", str(tmp_path), "-a", "hw1", "--csv", str(book), "--quiet", "--jobs", "1")
    assert batch.returncode == 0, batch.stderr  # no grader error
    rows = {r["student"]: r for r in csv.DictReader(book.open())}
    assert rows["null"]["status"] == status.IMPORT_ERROR and "save the file as UTF-8" in rows["null"]["error"]
    assert float(rows["utf16"]["score"]) == pytest.approx(100) and "UTF-16" in rows["utf16"]["note"]
    assert float(rows["nb"]["score"]) == pytest.approx(100) and "marked as graded" in rows["nb"]["note"]


# ----------------------------------------------------------------------------- notebooks


def write_nb(tmp_path: Path, nb: dict | str, name: str = "hw1_autograd.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return path


def cell_of(nb: dict, task: str) -> dict:
    return next(c for c in nb["cells"] if submission.tag("hw1", task) in c["metadata"].get("tags", []))


def with_source(nb: dict, task: str, source: str) -> dict:
    cell_of(nb, task)["source"] = source
    return nb


def code_cell(source: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"extra-{abs(hash(source)) % 10**8}",
            "metadata": {"tags": tags or []}, "outputs": [], "source": source}


def test_a_completed_notebook_earns_what_the_same_code_as_a_py_earns(tmp_path, reference):
    path = write_nb(tmp_path, completed(committed("hw1"), "hw1"))
    result = engine.grade(path, HW1, **RUN)
    assert points(result) == points(reference) and result.score == pytest.approx(100)
    assert "graded the 7 cells of hw1_autograd.ipynb marked as graded, as functions.py" in result.source_notes[0]
    stub = engine.grade(write_nb(tmp_path, committed("hw1"), "stub.ipynb"), HW1, **RUN)
    assert stub.score == 0 and status.of_result(stub).name == status.NOT_STARTED


def test_magics_shell_lines_and_unmarked_cells_are_left_out_and_cost_nothing(tmp_path, reference):
    nb = completed(committed("hw1"), "hw1")
    sig = cell_of(nb, "Sigmoid")
    sig["source"] = "".join(sig["source"]) + ("\n%timeit Sigmoid.apply(torch.randn(3))\n!pip install numpy\n"
                                              "for _ in range(2):\n    %time Sigmoid.apply(torch.randn(3))\n"
                                              "out = !ls\nSigmoid?\n")
    relu = cell_of(nb, "ReLU")
    relu["source"] = "%%capture\n" + "".join(relu["source"])
    # A student's experiments: a built-in and autograd (forbidden in graded code), a crash, a shell cell.
    nb["cells"][3:3] = [code_cell("import torch.nn.functional as F\nprint(F.relu(torch.ones(1)))\n"
                                  "torch.autograd.grad(torch.ones(1, requires_grad=True).sum(), [])\n"),
                        code_cell("raise SystemExit('scratch')\n"), code_cell("%%bash\nrm -rf /\n")]
    result = engine.grade(write_nb(tmp_path, nb), HW1, **RUN)
    assert points(result) == points(reference)
    notes = " ".join(result.source_notes)
    others = sum(c["cell_type"] == "code" and not c["metadata"].get("tags") for c in committed("hw1")["cells"])
    assert f"the {others + 3} other code cells" in notes and "`%timeit Sigmoid.apply" in notes and "`!pip install numpy`" in notes
    text = submission.read(tmp_path / "hw1_autograd.ipynb", HW1).text
    assert not [w for w in ("F.relu", "SystemExit", "timeit", "!pip", "%%capture", "rm -rf") if w in text]


def test_a_marked_cell_whose_magic_takes_no_python_is_left_out_with_a_note(tmp_path):
    nb = completed(committed("hw1"), "hw1")
    cell_of(nb, "Sigmoid")["source"] = "%%writefile notes.txt\nclass Sigmoid: ...\n"
    result = engine.grade(write_nb(tmp_path, nb), HW1, **RUN)
    assert points(result)["Sigmoid"] == 0 and points(result)["Linear"] == 25
    assert any("'%%writefile notes.txt'" in n and "not graded" in n for n in result.source_notes)


@pytest.mark.parametrize(("change", "needle"), [
    (lambda nb: "{ not json", "its JSON is broken at line 1 column 3"),
    (lambda nb: json.dumps({"worksheets": []}), "not a Jupyter notebook"),
    (lambda nb: "[" * 100_000, "its JSON is broken"),  # nesting deep enough to exhaust the parser's recursion
    (lambda nb: json.dumps(with_source(nb, "Square", "x = 1\x00\n")), "contains a null byte on line"),
    (lambda nb: json.dumps({**nb, "cells": [c for c in nb["cells"] if not c["metadata"].get("tags")]}),
     "has no cell marked as graded for hw1"),
    (lambda nb: json.dumps({**nb, "cells": nb["cells"] + [cell_of(nb, "Linear")]}), "marks Linear twice"),
])
def test_a_broken_notebook_is_one_line_not_a_traceback(tmp_path, change, needle):
    path = write_nb(tmp_path, change(completed(committed("hw1"), "hw1")))
    src = submission.read(path, HW1)
    assert needle in src.problem and "\n" not in src.problem
    result = engine.grade(path, HW1, **RUN)
    assert result.score == 0 and status.of_result(result) == status.Status(status.IMPORT_ERROR, src.problem)
    checked = course_nn("check", str(path), "-a", "hw1")
    assert "Traceback" not in checked.stdout + checked.stderr
    assert f"import error: {src.problem}" in checked.stdout


def test_the_assignment_is_guessed_from_the_notebooks_tags_and_another_ones_notebook_is_named(tmp_path):
    path = write_nb(tmp_path, (ROOT / "assignments" / "hw2_mlp" / "hw2_mlp.ipynb").read_text(), "mine.ipynb")
    assert submission.notebook_assignment(path) == "hw2"
    assert "is hw2's notebook" in submission.read(path, HW1).problem  # grade-batch and Gradescope: a 0 that says why
    wrong = course_nn("check", str(path), "-a", "hw1")
    assert wrong.returncode == 2 and "does not match hw1" in wrong.stderr and "--assignment hw2" in wrong.stderr
    guessed = course_nn("check", str(path))
    assert guessed.returncode == 1 and "visible tests of hw2" in guessed.stdout


@pytest.mark.parametrize(("source", "kept", "left_out"), [
    ("x = 1\n", "x = 1\n", []),
    ("%%capture\nx = 1\n", "\nx = 1\n", ["%%capture"]),
    ("%%bash\nls\n", None, ["%%bash"]),
    ("for i in range(2):\n    !echo $i\n", "for i in range(2):\n    pass  # IPython line left out\n", ["!echo $i"]),
    ("files = !ls\nlen?\n", "pass  # IPython line left out\npass  # IPython line left out\n", ["files = !ls", "len?"]),
    ('s = """\n%not a magic\n"""\n', 's = """\n%not a magic\n"""\n', []),  # inside a string: valid Python, kept
])
def test_cell_python_keeps_python_and_line_numbers(source, kept, left_out):
    assert submission.cell_python(source) == (kept, left_out)


# ----------------------------------------------------------------------------- course-nn submit


def test_submit_writes_the_graded_cells_to_upload_and_never_over_a_students_file(tmp_path):
    path = write_nb(tmp_path, completed(committed("hw1"), "hw1"))
    result = course_nn("submit", str(path))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "upload" / "functions.py"
    assert f"wrote {out}" in result.stdout and "upload this file" in result.stdout
    graded = engine.grade(out, HW1, **RUN)
    assert graded.score == pytest.approx(100)
    assert course_nn("submit", str(path)).returncode == 0  # its own file: replaced
    mine = tmp_path / "functions.py"
    mine.write_text("# my own work\n")
    refused = course_nn("submit", str(path), "--out", str(mine))
    assert refused.returncode == 2 and "was not written by course-nn" in refused.stderr
    assert mine.read_text() == "# my own work\n"
    assert course_nn("submit", str(path), "--out", str(mine), "--force").returncode == 0
    broken = course_nn("submit", str(write_nb(tmp_path, "{", "broken.ipynb")), "-a", "hw1")
    assert broken.returncode == 2 and "JSON is broken" in broken.stderr and "Traceback" not in broken.stderr


def gradescope_upload(ag: Path, files: dict[str, str | bytes]) -> dict:
    """Gradescope's layout (submission/, source/, results/) graded by `course-nn grade --gradescope`."""
    (ag / "submission").mkdir(parents=True)
    (ag / "source" / "hidden").mkdir(parents=True)
    (ag / "source" / "assignment.txt").write_text("hw1\n")
    (ag / "source" / "hidden" / "hw1.json").write_text('{"seed": 7}')
    for name, data in files.items():
        (ag / "submission" / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    run = subprocess.run([sys.executable, "-m", "course_nn", "grade", "--gradescope"], capture_output=True, text=True,
                         env={**os.environ, "COURSE_NN_AUTOGRADER_ROOT": str(ag)}, timeout=600, cwd=ag)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    return json.loads((ag / "results" / "results.json").read_text())


@pytest.mark.sandbox
@pytest.mark.slow
def test_gradescope_grades_an_uploaded_notebook_and_says_which_cells_and_encodings(tmp_path):
    nb = json.dumps(completed(committed("hw1"), "hw1"))
    data = gradescope_upload(tmp_path / "a", {"hw1_autograd.ipynb": nb})
    assert data["score"] == pytest.approx(100)
    assert "graded the 7 cells of hw1_autograd.ipynb marked as graded" in markdown.plain(data["output"])
    broken = gradescope_upload(tmp_path / "b", {"hw1_autograd.ipynb": nb[:-20]})
    assert broken["score"] == 0 and "its JSON is broken" in markdown.plain(broken["output"])
    assert broken["extra_data"]["status"] == status.IMPORT_ERROR  # the student's, not "the course's side"
    both = gradescope_upload(tmp_path / "c", {"functions.py": TEXT, "hw1_autograd.ipynb": nb})
    assert both["score"] == pytest.approx(100)
    assert "hw1_autograd.ipynb (uploaded with it) was not" in markdown.plain(both["output"])
    null = gradescope_upload(tmp_path / "d", {"functions.py": TEXT.encode().replace(b"import torch\n", b"\x00\n", 1)})
    assert null["score"] == 0 and null["extra_data"]["status"] == status.IMPORT_ERROR
    assert "save the file as UTF-8" in null["output"] and "course's side" not in null["output"]
    utf16 = gradescope_upload(tmp_path / "e", {"functions.py": TEXT.encode("utf-16")})
    assert utf16["score"] == pytest.approx(100) and "UTF-16" in utf16["output"]


@pytest.mark.sandbox
@pytest.mark.slow
def test_grade_of_a_completed_notebook_equals_grade_of_its_functions_py(tmp_path):
    """The done-when: `course-nn grade hw1.ipynb` == `course-nn grade functions.py`, in the sandbox."""
    nb = write_nb(tmp_path, completed(committed("hw1"), "hw1"), "hw1.ipynb")
    py = tmp_path / "functions.py"
    py.write_text(TEXT)
    seed = tmp_path / "hidden.json"
    seed.write_text('{"seed": 11}')
    scores = []
    for path in (nb, py):
        out = tmp_path / f"{path.suffix[1:]}.json"
        run = course_nn("grade", str(path), "-a", "hw1", "--hidden-seed", str(seed), "--replay", "abc123",
                        "--json", str(out))
        assert run.returncode == 0, run.stderr
        data = json.loads(out.read_text())
        scores.append((data["score"], [(t["name"], t["score"]) for t in data["tests"]]))
    assert scores[0] == scores[1] and scores[0][0] == pytest.approx(100)
