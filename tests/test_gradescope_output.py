"""Gradescope conventions (issue 12) and the gradebook's statuses (issue 16), on results.json.

Most tests build a GradeResult from outcomes directly (no sandbox: fast); the --gradescope tests
run the command as Gradescope does, in a folder laid out like /autograder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import report, status
from course_nn.grading.engine import GradeResult
from course_nn.grading.outcome import Outcome

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
HW1 = registry.get("hw1")


def result_with(tmp_path: Path, source: str, fractions: dict[tuple[str, str], float] | None = None,
                lines: dict[str, list[str]] | None = None, output: str = "") -> GradeResult:
    """Every (task, category) of hw1 at 1.0 unless ``fractions`` says otherwise; ``lines`` per task."""
    sub = tmp_path / "functions.py"
    sub.write_text(source)
    fractions, lines = fractions or {}, lines or {}
    outcomes = [Outcome(t.name, c.key, fractions.get((t.name, c.key), 1.0), list(lines.get(t.name, [])))
                for t in HW1.tasks for c in HW1.categories]
    return GradeResult(HW1, sub, outcomes, 1.0, False, [], output)


def missing_sigmoid(tmp_path: Path) -> GradeResult:
    why = "class Sigmoid not found in functions.py — keep the name exactly `Sigmoid`"
    return result_with(tmp_path, "import torch\nclass Square: pass\n",
                       {("Sigmoid", c.key): 0.0 for c in HW1.categories}, {"Sigmoid": [why]})


def test_a_missing_class_is_one_row_and_one_test_worth_all_its_points(tmp_path):
    result = missing_sigmoid(tmp_path)
    table = report.table(result, width=200)
    rows = [line.split() for line in table.splitlines() if line.startswith("Sigmoid")]
    assert len(rows) == 1 and rows[0][:4] == ["Sigmoid", "(all", "checks)", "FAIL"]
    tests = [t for t in report.results_json(result)["tests"] if t["name"].startswith("Sigmoid:")]
    assert len(tests) == 1
    assert tests[0]["max_score"] == pytest.approx(HW1.task("Sigmoid").points)
    assert tests[0]["score"] == 0 and "not found" in tests[0]["output"]
    assert tests[0]["visibility"] == "visible"  # says nothing about hidden cases
    total = sum(t["max_score"] for t in report.results_json(result)["tests"])
    assert total == pytest.approx(HW1.total_points)


def test_details_prints_no_empty_headers(tmp_path):
    result = result_with(tmp_path, "x = 1\n", {("Linear", "backward"): 0.5, ("ReLU", "edge"): 0.0},
                         {"ReLU": ["", "  "]})  # a failing check without a readable line
    text = report.details(result)
    assert "ReLU" not in text  # no header without lines under it
    missing = report.details(missing_sigmoid(tmp_path))
    assert len(missing.splitlines()) == 2  # one header and its one line, not five copies
    for i, line in enumerate(lines := missing.splitlines()):
        if not line.startswith("  - "):
            assert i + 1 < len(lines) and lines[i + 1].startswith("  - ")


def test_top_level_output_hides_after_published_scores_and_the_total(tmp_path):
    # Linear loses half of its (after_published) backward points; the visible tests are all passed.
    result = result_with(tmp_path, "x = 1\n", {("Linear", "backward"): 0.5})
    data = report.results_json(result)
    visible_total = sum(t["max_score"] for t in data["tests"] if t["visibility"] == "visible")
    assert f"{result.score:.2f}" not in data["output"]  # 94.38: the real total is not revealed
    assert f"{HW1.total_points:g}.00" not in data["output"]
    linear_visible = sum(t["max_score"] for t in data["tests"]
                         if t["name"].startswith("Linear:") and t["visibility"] == "visible")
    assert re.search(rf"Linear\s+{linear_visible:.2f} / {linear_visible:g}\b", data["output"])
    assert visible_total < HW1.total_points
    assert "published" in data["output"]


def test_top_level_output_shows_the_total_when_nothing_is_held_back(tmp_path):
    result = result_with(tmp_path, "x = 1\n", {("Linear", "forward"): 0.5})
    result.visible_only = True  # `check --json`: every test is visible
    data = report.results_json(result)
    assert re.search(rf"total\s+{result.score:.2f} / 100", data["output"])


def test_output_format_is_set_where_text_uses_markdown(tmp_path):
    data = report.results_json(missing_sigmoid(tmp_path))
    assert data["output_format"] == "md" and "```" in data["output"]  # the points table is fixed-width
    sigmoid = next(t for t in data["tests"] if t["name"].startswith("Sigmoid:"))
    assert sigmoid["output_format"] == "md"  # `Sigmoid` in backticks
    plain = next(t for t in data["tests"] if t["name"].startswith("Linear:"))
    assert "output_format" not in plain and data["test_output_format"] == "text"


def test_what_the_submission_printed_is_kept_and_capped(tmp_path):
    short = report.results_json(result_with(tmp_path, "x = 1\n", output="hello from the student\n"))
    assert short["extra_data"]["submission_output"] == "hello from the student\n"
    huge = report.results_json(result_with(tmp_path, "x = 1\n", output="y" * 50_000))
    kept = huge["extra_data"]["submission_output"]
    assert len(kept) < 9000 and kept.startswith("y" * 100) and "more characters cut" in kept


@pytest.mark.parametrize(("source", "reasons", "expected", "needle"), [
    ("", None, status.EMPTY, "no code"),
    ('"""only a docstring"""\n# and a comment\n', None, status.EMPTY, "no code"),
    ("def broken(:\n", None, status.IMPORT_ERROR, "SyntaxError at line 1"),
    ("import torch\nx = undefined\n", "your file could not be imported: NameError: name 'undefined'",
     status.IMPORT_ERROR, "NameError"),
    ("class Square: pass\n", "not implemented: {task} is not implemented yet", status.NOT_STARTED, "NotImplementedError"),
    ("class Square: pass\n", "wrong value for {task}", status.OK, ""),
])
def test_status_says_what_happened(tmp_path, source, reasons, expected, needle):
    fractions = {(t.name, c.key): 0.0 for t in HW1.tasks for c in HW1.categories} if reasons or not source.strip() \
        or "broken" in source or "docstring" in source else None
    lines = {t.name: [reasons.format(task=t.name)] for t in HW1.tasks} if reasons else None
    result = result_with(tmp_path, source, fractions, lines)
    state = status.of_result(result)
    assert state.name == expected and needle in state.reason
    data = report.results_json(result)
    assert data["extra_data"]["status"] == expected
    if expected != status.OK:
        assert state.reason in data["output"]  # the student sees it at the top


def test_find_submission_grades_a_single_misnamed_file_with_a_note(tmp_path):
    (tmp_path / "functions (1).py").write_text("x = 1\n")
    path, note = status.find_submission(tmp_path, HW1, for_student=True)
    assert path.name == "functions (1).py" and "functions.py" in note
    (tmp_path / "helper.py").write_text("y = 2\n")
    with pytest.raises(status.UsageError, match="named functions.py"):
        status.find_submission(tmp_path, HW1, for_student=True)


# ----------------------------------------------------------------------------- --gradescope


def gradescope(ag: Path, files: dict[str, str], hidden: bool = True) -> tuple[subprocess.CompletedProcess, dict]:
    (ag / "submission").mkdir(parents=True)
    (ag / "source").mkdir(parents=True)
    (ag / "source" / "assignment.txt").write_text("hw1\n")
    if hidden:
        (ag / "source" / "hidden").mkdir()
        (ag / "source" / "hidden" / "hw1.json").write_text('{"seed": 7}')
    for name, text in files.items():
        (ag / "submission" / name).write_text(text)
    run = subprocess.run([sys.executable, "-m", "course_nn", "grade", "--gradescope"], capture_output=True, text=True,
                         env={**os.environ, "COURSE_NN_AUTOGRADER_ROOT": str(ag)}, timeout=600, cwd=ag)
    return run, json.loads((ag / "results" / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.sandbox
def test_gradescope_grades_a_single_misnamed_upload_with_a_visible_note(tmp_path):
    run, data = gradescope(tmp_path, {"functions (1).py": SOLUTION.read_text()})
    assert run.returncode == 0, run.stderr
    assert data["score"] == pytest.approx(100)
    assert "functions (1).py" in data["output"] and "name it exactly functions.py" in data["output"]


def test_gradescope_with_two_files_writes_score_0_and_says_what_to_name_the_file(tmp_path):
    run, data = gradescope(tmp_path, {"my_functions.py": SOLUTION.read_text(), "scratch.py": "x = 1\n"})
    assert run.returncode == 0, run.stderr
    assert data["score"] == 0 and data["visibility"] == "visible"
    assert "named functions.py" in data["output"] and "my_functions.py" in data["output"]


def test_gradescope_writes_results_json_even_when_the_grader_fails(tmp_path):
    run, data = gradescope(tmp_path, {"functions.py": SOLUTION.read_text()}, hidden=False)  # no seed file
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert data["score"] == 0 and "not in your code" in data["output"]
    assert data["extra_data"]["status"] == status.GRADER_ERROR


@pytest.mark.slow
@pytest.mark.sandbox
def test_gradescope_leaves_results_json_when_stopped_by_its_time_limit(tmp_path):
    ag = tmp_path
    (ag / "submission").mkdir()
    (ag / "source" / "hidden").mkdir(parents=True)
    (ag / "source" / "assignment.txt").write_text("hw1\n")
    (ag / "source" / "hidden" / "hw1.json").write_text('{"seed": 7}')
    (ag / "submission" / "functions.py").write_text("import time\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-m", "course_nn", "grade", "--gradescope", "--timeout", "300"],
                            env={**os.environ, "COURSE_NN_AUTOGRADER_ROOT": str(ag)}, cwd=ag,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # the submission is importing (sleeping) by now
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    data = json.loads((ag / "results" / "results.json").read_text())
    assert data["score"] == 0 and "stopped before grading finished" in data["output"]
    assert "Traceback" not in err
