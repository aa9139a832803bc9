"""Issue 16: no command loses a student's or an instructor's work, and none says 'ok' when it is not."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import cli_batch, status

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"
SUBMISSIONS = ROOT / "tests" / "submissions" / "hw1"


def planted(tmp_path: Path, mistake: str) -> Path:
    """functions.py in ``tmp_path``: tests/submissions/hw1/correct_base.py, then ``<mistake>.py``
    (whose class replaces the base's)."""
    student = tmp_path / "functions.py"
    student.write_text("\n\n".join((SUBMISSIONS / f"{name}.py").read_text() for name in ("correct_base", mistake)))
    return student


def course_nn(*args: str, cwd: Path = ROOT, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_nn", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600, **kw)


# ----------------------------------------------------------------------------- handout build


def test_handout_build_refuses_to_replace_a_students_work(tmp_path):
    first = course_nn("handout", "build", "-a", "hw1", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert str(tmp_path / "hw1_autograd") in first.stdout  # the real target, not just --out
    again = course_nn("handout", "build", "-a", "hw1", "--out", str(tmp_path))  # untouched: rebuilding is fine
    assert again.returncode == 0, again.stderr
    work = tmp_path / "hw1_autograd"
    (work / "functions.py").write_text("# my implementation\n")
    (work / "runs" / "spiral").mkdir(parents=True)
    (work / "runs" / "spiral" / "events").write_text("x")
    refused = course_nn("handout", "build", "-a", "hw1", "--out", str(tmp_path))
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1 and "--force" in line and str(work) in line
    assert "functions.py" in line and "runs/" in line
    assert (work / "functions.py").read_text() == "# my implementation\n"  # nothing was touched
    assert (work / "runs" / "spiral" / "events").is_file()
    forced = course_nn("handout", "build", "-a", "hw1", "--out", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (work / "functions.py").read_text() == STUB.read_text() and not (work / "runs").exists()


# ----------------------------------------------------------------------------- output paths


@pytest.mark.parametrize(("args", "needle"), [
    (["grade", str(SOLUTION), "-a", "hw1", "--json", "{missing}/x.json"], "does not exist"),
    (["check", str(SOLUTION), "--json", "{missing}/x.json"], "does not exist"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{missing}/g.csv"], "does not exist"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{tmp}/g.csv", "--results-dir", "{file}/r"], "does not exist"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{tmp}/g.csv", "--results-dir", "{file}"], "is a file"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{tmp}"], "give a file path"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "/proc/course-nn-test.csv"], "cannot write"),
    (["handout", "build", "-a", "hw1", "--out", "{missing}/bundle"], "does not exist"),
    (["handout", "build", "-a", "hw1", "--out", "{missing}/hw1.zip"], "does not exist"),
    (["autograder", "build", "-a", "hw1", "--out", "{missing}/ag.zip"], "does not exist"),
])
def test_an_unwritable_output_is_one_line_before_any_work(tmp_path, args, needle):
    subs = tmp_path / "subs" / "alice"
    subs.mkdir(parents=True)
    (subs / "functions.py").write_text(SOLUTION.read_text())
    (tmp_path / "a_file").write_text("x")
    names = {"missing": tmp_path / "no" / "such", "subs": tmp_path / "subs", "tmp": tmp_path,
             "file": tmp_path / "a_file"}
    started = time.monotonic()
    result = course_nn(*[a.format(**names) for a in args])
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "no").exists()  # no folders created from / down
    assert not list(tmp_path.glob("*_results"))  # nothing graded
    assert time.monotonic() - started < 30


# ----------------------------------------------------------------------------- inputs are never outputs


@pytest.mark.parametrize(("args", "needle"), [
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{subs}/alice/functions.py"], "inside the submission folder"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{subs}/bob.py"], "is the submission"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{tmp}/g.csv", "--results-dir", "{subs}/alice/results"],
     "inside the submission folder"),
    (["grade-batch", "{subs}", "-a", "hw1", "--csv", "{tmp}/g.csv", "--results-dir", "{subs}"],
     "inside the submission folder"),  # <results-dir>/alice/results.json would land in alice's folder
    (["grade-batch", "{subs}", "-a", "hw1", "--hidden-seed", "{seed}", "--csv", "{seed}"], "which this command reads"),
    (["grade", "{subs}/alice/functions.py", "--json", "{subs}/alice/functions.py"], "is the submission"),
    (["grade", "{subs}/alice", "-a", "hw1", "--json", "{subs}/alice/results.json"], "inside the submission folder"),
    (["grade", "{subs}/bob.py", "-a", "hw1", "--hidden-seed", "{seed}", "--json", "{seed}"], "which this command reads"),
    (["check", "{subs}/alice/functions.py", "--json", "{subs}/alice/functions.py"], "is the submission"),
    (["trace", "--impl", "{subs}/alice/functions.py", "--json", "{subs}/alice/functions.py"], "which this command reads"),
    (["handout", "build", "-a", "hw1", "--out", "{root}/assignments"], "which this command reads"),
    (["handout", "build", "-a", "hw1", "--out", "{root}/solutions/hw1.zip"], "which this command reads"),
    (["autograder", "build", "-a", "hw1", "--out", "{root}/course_nn/hw1_autograder.zip"], "which this command reads"),
    (["bench", "--impl", "{subs}/alice/functions.py", "--json", "{subs}/alice/functions.py"], "which this command reads"),
    (["train", "--impl", "{subs}/alice/functions.py", "--summary", "{subs}/alice/functions.py", "--logdir", "{tmp}/runs"],
     "which this command reads"),
])
def test_no_command_writes_over_what_it_reads_or_a_submission(tmp_path, capsys, args, needle):
    from course_nn.cli import main as cli_main

    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "functions.py").write_text(SOLUTION.read_text())
    (subs / "bob.py").write_text(SOLUTION.read_text())
    (tmp_path / "seed.json").write_text('{"seed": 3}')
    names = {"subs": subs, "tmp": tmp_path, "seed": tmp_path / "seed.json", "root": ROOT}
    watched = [*tmp_path.rglob("*"), *(ROOT / "assignments" / "hw1_autograd").rglob("*")]
    before = {p: p.read_bytes() for p in watched if p.is_file()}
    try:
        code = cli_main([a.format(**names) for a in args])
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
        assert {p: p.read_bytes() for p in watched if p.is_file()} == before  # every input as it was
        assert sorted(tmp_path.rglob("*")) == sorted(p for p in watched if p.is_relative_to(tmp_path))  # nothing new
    finally:
        for made in (ROOT / "course_nn" / "hw1_autograder.zip", ROOT / "solutions" / "hw1.zip"):
            made.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- grade-batch


def _grader_processes() -> set[int]:
    """Every process of this checkout running the grader, a worker, a zygote or a child forked from
    one (other checkouts on a shared machine run graders of their own)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            ours = str(ROOT).encode() in cmd or os.readlink(f"/proc/{entry}/cwd") == str(ROOT)
        except (OSError, ValueError):
            continue
        if ours and any(part in cmd for part in (b"zygote.py", b"contain.py", b"course_nn\x00grade-batch",
                                                   b"runner.py")):
            found.add(int(entry))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("children", ["zygote", "fresh"])
@pytest.mark.sandbox
def test_grade_batch_writes_each_result_as_soon_as_it_is_graded(tmp_path, children):
    """...and a grader killed outright (kill -9) leaves no student process behind, whether its
    children are forked by the zygote or fresh interpreters."""
    before = _grader_processes()
    subs = tmp_path / "subs"
    for name, text in [("alice", SOLUTION.read_text()), ("bob", "import time\ntime.sleep(600)\n")]:
        (subs / name).mkdir(parents=True)
        (subs / name / "functions.py").write_text(text)
    book = tmp_path / "grades.csv"
    proc = subprocess.Popen([sys.executable, "-m", "course_nn", "grade-batch", str(subs), "-a", "hw1", "--jobs", "1",
                             "--csv", str(book), "--timeout", "300", "--quiet",
                             *(["--no-zygote"] if children == "fresh" else [])], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not book.exists():
            time.sleep(0.5)
        assert book.exists(), "no gradebook while the batch was still running"
        rows = {r["student"]: r for r in csv.DictReader(book.open())}
        assert float(rows["alice"]["score"]) == pytest.approx(100) and "bob" not in rows
        assert (tmp_path / "grades_results" / "alice" / "results.json").is_file()
        time.sleep(3)  # bob's child is asleep in its sandbox by now: the kill must reach it too
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    deadline = time.monotonic() + 15
    while _grader_processes() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _grader_processes() - before
    assert not left, f"still running after the grader was killed: {[Path(f'/proc/{p}/cmdline').read_bytes()[:80] for p in left]}"


def test_a_grader_failure_is_never_a_students_score(tmp_path, monkeypatch):
    from course_nn.grading import engine

    def broken(*args, **kwargs):
        raise RuntimeError("the grader's own bug")

    monkeypatch.setattr(engine, "grade", broken)
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "functions.py").write_text(SOLUTION.read_text())
    row = cli_batch._grade_one("alice", str(tmp_path / "alice"), "hw1", None, str(tmp_path / "r.json"), 30, 0)
    assert row["status"] == status.GRADER_ERROR and "the grader's own bug" in row["error"]
    assert row["score"] == ""  # blank, not 0


@pytest.mark.slow
@pytest.mark.sandbox
def test_grade_batch_skips_its_own_outputs_inside_the_submissions_folder(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "functions.py").write_text("")
    for _ in range(2):
        result = course_nn("grade-batch", str(subs), "-a", "hw1", "--csv", str(subs / "grades.csv"), "--quiet")
        assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((subs / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["alice"]
    assert "skipped grades_results/" in result.stderr and "own output" in result.stderr
    assert rows[0]["status"] == status.EMPTY and "no code" in rows[0]["error"]


@pytest.mark.slow
@pytest.mark.sandbox
def test_grade_batch_progress_is_plain_lines_off_a_terminal(tmp_path):
    subs = tmp_path / "subs"
    for name in ("alice", "bob"):
        (subs / name).mkdir(parents=True)
        (subs / name / "functions.py").write_text("")
    result = course_nn("grade-batch", str(subs), "-a", "hw1", "--csv", str(tmp_path / "g.csv"))
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert "[1/2]" in result.stderr and "[2/2]" in result.stderr


# ----------------------------------------------------------------------------- grade / check


@pytest.mark.slow
@pytest.mark.sandbox
def test_grade_a_folder_only_when_it_holds_exactly_one_submission(tmp_path):
    for name in ("alice", "bob"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "functions.py").write_text("")
    several = course_nn("grade", str(tmp_path), "-a", "hw1")
    assert several.returncode == 2 and "grade-batch" in several.stderr
    assert len(several.stderr.strip().splitlines()) == 1
    one = course_nn("grade", str(tmp_path / "alice"), "-a", "hw1")
    assert one.returncode == 0, one.stderr
    assert "empty: functions.py has no code" in one.stdout


def test_check_says_a_file_does_not_match_the_assignment():
    result = course_nn("check", str(ROOT / "assignments" / "hw2_mlp" / "mlp.py"), "-a", "hw1")
    assert result.returncode == 2
    assert "does not match hw1" in result.stderr and "--assignment hw2" in result.stderr


def test_check_help_says_what_it_prints_by_default_and_with_details():
    text = " ".join(course_nn("check", "--help").stdout.split())
    assert "What it prints by default" in text and "With --details" in text
    assert "points" in text and "part" in text


def test_status_names_match_the_gradebook_documentation():
    doc = " ".join(cli_batch.__doc__.split())
    for name in (status.OK, status.EMPTY, status.IMPORT_ERROR, status.NOT_STARTED, status.MISSING,
                 status.GRADER_ERROR):
        assert name in doc


# ----------------------------------------------------------------------------- small ones


@pytest.mark.sandbox
def test_a_sigmoid_backward_that_uses_its_input_gets_the_hint_from_the_grader(tmp_path):
    from course_nn.grading import engine

    sub = planted(tmp_path, "sigmoid_backward_uses_input")
    result = engine.grade(sub, registry.get("hw1"), visible_only=True)
    backward = next(o for o in result.outcomes if o.task == "Sigmoid" and o.category == "backward")
    assert not backward.passed
    assert "input z where the derivative needs the output σ(z)" in backward.lines[0]


def test_the_handouts_say_how_to_install_before_the_first_pytest_and_explain_part():
    for folder in ("hw1_autograd", "hw2_mlp"):
        text = (ROOT / "assignments" / folder / "README.md").read_text()
        install, first_pytest = text.find("pip install"), text.find("pytest -")
        assert 0 <= install < first_pytest, folder
        assert "`part`" in text, folder
