"""The grading commands as a user runs them: check, grade, grade-batch, the Gradescope zip."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_nn.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"


def course_nn(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_nn", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_that_explains_itself(command):
    result = course_nn(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: course-nn " + command in result.stdout
    assert len(result.stdout.splitlines()) > 6


def test_top_level_help_lists_commands():
    result = course_nn("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["grade", "nope/functions.py", "--assignment", "hw1"], "no such file"),
    (["grade", str(SOLUTION), "--assignment", "hw9"], "unknown assignment 'hw9'"),
    (["check", str(ROOT / "pyproject.toml")], "cannot tell the assignment"),
    (["grade-batch", "nope", "--assignment", "hw1", "--csv", "x.csv"], "not a folder"),
    (["autograder", "build", "-a", "hw1", "--out", "x.tar"], ".zip"),
    (["grade", str(SOLUTION), "-a", "hw1", "--memory", "lots"], "not a size"),
    (["grade", str(SOLUTION), "-a", "hw1", "--timeout", "-1"], "not a time limit"),
    (["grade", str(SOLUTION), "-a", "hw1", "--json", "."], "is a folder"),
    (["grade-batch", ".", "-a", "hw1", "--csv", "."], "give a file path"),
    (["handout", "build", "-a", "hw1", "--out", str(SOLUTION)], "is a file"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    result = course_nn(*args, cwd=tmp_path, env={"COURSE_NN_ROOT": str(ROOT)})
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_check_prints_a_table_and_exit_status(tmp_path):
    good = course_nn("check", str(SOLUTION))
    assert good.returncode == 0
    assert good.stdout.splitlines()[0].split() == ["function", "check", "result", "reason"]
    assert "35 passed, 0 failed" in good.stdout
    assert "Linear 25.00 / 25" in good.stdout and "total 100.00 / 100" in good.stdout  # earned / possible
    assert "part = some of" in good.stdout  # the legend explains the result column
    bad = course_nn("check", str(STUB), "--details", "--json", str(tmp_path / "r.json"))
    assert bad.returncode == 1
    assert "not implemented: Linear.forward is not implemented yet (hw1 task 5)" in bad.stdout
    assert "Linear 0.00 / 25" in bad.stdout and "total 0.00 / 100" in bad.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and all(t["visibility"] == "visible" for t in data["tests"])


@pytest.mark.sandbox
def test_grade_writes_results_json_and_exits_0_whatever_the_score(tmp_path):
    out = tmp_path / "out" / "results.json"
    out.parent.mkdir()  # --json's folder must exist (a typo must not create folders)
    result = course_nn("grade", str(STUB), "--assignment", "hw1", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["score"] == 0
    assert "score: 0.00 / 100" in result.stdout
    assert not list(out.parent.glob(".*.tmp"))  # written atomically, nothing left behind


@pytest.mark.sandbox
def test_grade_batch_one_bad_submission_never_stops_the_batch(tmp_path):
    subs = tmp_path / "submissions"
    for name, text in [("alice", SOLUTION.read_text()), ("bob", "def broken(:\n"), ("carol", STUB.read_text()),
                       ("erin", "\n# nothing yet\n")]:
        (subs / name).mkdir(parents=True)
        (subs / name / "functions.py").write_text(text)
    (subs / "dave").mkdir()  # submitted nothing
    (subs / "frank").mkdir()  # hw2's file handed in for hw1
    (subs / "frank" / "mlp.py").write_text((ROOT / "solutions" / "hw2_mlp" / "mlp.py").read_text())
    book = tmp_path / "grades.csv"
    result = course_nn("grade-batch", str(subs), "--assignment", "hw1", "--jobs", "2", "--csv", str(book), "--quiet")
    assert result.returncode == 0, result.stderr
    rows = {r["student"]: r for r in csv.DictReader(book.open())}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    # as check and grade say it: the wrong assignment, a 0, the reason naming what it defines
    assert rows["frank"]["status"] == "wrong assignment" and float(rows["frank"]["score"]) == 0
    assert "does not match hw1" in rows["frank"]["error"] and "hw2" in rows["frank"]["error"]
    frank = json.loads((tmp_path / "grades_results" / "frank" / "results.json").read_text())
    assert frank["extra_data"]["status"] == "wrong assignment" and "does not match hw1" in frank["output"]
    assert float(rows["alice"]["score"]) == pytest.approx(100)
    assert float(rows["alice"]["Linear"]) == pytest.approx(25)
    assert rows["alice"]["status"] == "ok" and rows["alice"]["error"] == ""
    # What happened, with the one-line reason: never "ok" with an empty error for these.
    assert float(rows["bob"]["score"]) == 0 and rows["bob"]["status"] == "import error"
    assert "SyntaxError at line 1" in rows["bob"]["error"]
    assert float(rows["carol"]["score"]) == 0 and rows["carol"]["status"] == "not started"
    assert rows["erin"]["status"] == "empty" and "no code" in rows["erin"]["error"]
    assert rows["dave"]["status"] == "missing" and "no functions.py" in rows["dave"]["error"]
    for student in ("alice", "bob", "carol", "dave"):
        data = json.loads((tmp_path / "grades_results" / student / "results.json").read_text())
        assert "tests" in data
    bob = json.loads((tmp_path / "grades_results" / "bob" / "results.json").read_text())
    assert "import error" in bob["output"] and "SyntaxError" in bob["output"]


@pytest.mark.sandbox
def test_gradescope_zip_grades_a_submission_end_to_end(tmp_path):
    zip_path = tmp_path / "hw1_autograder.zip"
    built = course_nn("autograder", "build", "-a", "hw1", "--out", str(zip_path))
    assert built.returncode == 0, built.stderr
    ag = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        zf.extractall(ag / "source")
    assert "setup.sh" in names and "run_autograder" in names
    assert not any(n.startswith("solutions/") or "/solutions/" in n for n in names)
    assert "hidden/hw1.json" in names
    text = "\n".join((ag / "source" / n).read_text(errors="replace") for n in names if n.endswith(".py"))
    assert "grad_output.t().mm(x)" not in text  # the reference's hand-written backward is not shipped
    (ag / "submission").mkdir()
    (ag / "submission" / "functions.py").write_text(SOLUTION.read_text())
    run = subprocess.run(["bash", str(ag / "source" / "run_autograder")], capture_output=True, text=True,
                         env={**os.environ, "COURSE_NN_AUTOGRADER_ROOT": str(ag), "COURSE_NN_PYTHON": sys.executable},
                         timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((ag / "results" / "results.json").read_text())
    assert data["score"] == pytest.approx(100)
    assert "hidden cases from" in run.stdout and str(ag / "source" / "hidden") in run.stdout
