"""A grader that cannot run a submission says so — a blank score with status "grader error" — and
never turns its own failure into the student's 0 (issue 20; issue 23 item 5).

A child that could not start, or that died without a cause the grader can prove (a SIGKILL from
outside with no sign of a memory limit, no timeout, not the student's own exit), is started once
more; a second such death is a grader error, in `grade`, `grade-batch` and the Gradescope path.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from course_nn import registry
from course_nn.cli import main as cli_main
from course_nn.grading import cli_batch, engine, sandbox, status

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
HW1 = registry.get("hw1")


@pytest.fixture
def killed_from_outside(monkeypatch):
    """Kill the child with SIGKILL from outside (as an operator, another tool or a host OOM killer
    would) the first ``times`` times it has been sent its job, before it answers."""
    original = engine._collect
    state = {"times": 0, "done": 0}

    def collect(child, *args, **kwargs):
        if state["done"] < state["times"]:
            state["done"] += 1
            os.kill(child.proc.pid, signal.SIGKILL)
        return original(child, *args, **kwargs)

    monkeypatch.setattr(engine, "_collect", collect)

    def arm(times: int) -> dict:
        state["times"] = times
        return state
    return arm


@pytest.mark.sandbox
@pytest.mark.parametrize("zygote", [False, True])
def test_one_unexplained_kill_is_retried_and_costs_nothing(killed_from_outside, zygote):
    killed_from_outside(1)
    result = engine.grade(SOLUTION, HW1, seed=3, zygote=zygote)
    assert result.score == pytest.approx(HW1.total_points)
    assert not result.grader_error and status.of_result(result).ok
    again = [n for n in result.notes if n.startswith("started the child again")]
    assert again and "SIGKILL from outside" in again[0] and "out of memory" not in again[0]


@pytest.mark.sandbox
def test_two_unexplained_kills_are_a_grader_error_not_a_zero(killed_from_outside):
    killed_from_outside(2)
    result = engine.grade(SOLUTION, HW1, seed=3)
    state = status.of_result(result)
    assert state.name == status.GRADER_ERROR and "SIGKILL from outside" in state.reason
    assert "memory" not in state.reason.split("no sign of")[0]  # never blamed on memory without evidence


@pytest.mark.sandbox
def test_grade_prints_a_blank_score_and_exits_1(killed_from_outside, tmp_path, capsys):
    killed_from_outside(2)
    out = tmp_path / "results.json"
    code = cli_main(["grade", str(SOLUTION), "-a", "hw1", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "grader error: the grader failed, not the submission" in printed
    assert "score: - / 100" in printed and "FAIL" not in printed
    data = json.loads(out.read_text())
    assert data["extra_data"]["status"] == status.GRADER_ERROR and "course's side" in data["output"]


def test_grade_batch_leaves_the_score_blank(killed_from_outside, tmp_path):
    killed_from_outside(2)
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "functions.py").write_text(SOLUTION.read_text())
    out = tmp_path / "r" / "alice" / "results.json"
    row = cli_batch._grade_one("alice", str(tmp_path / "alice"), "hw1", 3, str(out), 30, 2 << 30, key="k")
    assert row["status"] == status.GRADER_ERROR and row["score"] == ""
    assert not out.exists()  # not cached either: the next run grades alice again


def test_gradescope_says_it_is_the_courses_side(killed_from_outside, tmp_path, monkeypatch):
    killed_from_outside(2)
    ag = tmp_path / "ag"
    (ag / "submission").mkdir(parents=True)
    (ag / "source" / "hidden").mkdir(parents=True)
    (ag / "source" / "assignment.txt").write_text("hw1\n")
    (ag / "source" / "hidden" / "hw1.json").write_text('{"seed": 7}')
    (ag / "submission" / "functions.py").write_text(SOLUTION.read_text())
    monkeypatch.setenv("COURSE_NN_AUTOGRADER_ROOT", str(ag))
    assert cli_main(["grade", "--gradescope"]) == 1
    data = json.loads((ag / "results" / "results.json").read_text())
    assert "course's side" in data["output"] and "not your grade" in data["output"]
    assert data["extra_data"]["status"] == status.GRADER_ERROR


def test_no_child_can_start_here_is_a_grader_error_for_every_submission(monkeypatch, capsys):
    broken = sandbox.Containment("", os.geteuid() == 0, error="namespace mode failed: unshare: Operation not permitted")
    monkeypatch.setattr(sandbox.modes, "containment", lambda student_check=False: broken)
    monkeypatch.setattr(engine.sandbox, "containment", lambda student_check=False: broken)
    result = engine.grade(SOLUTION, HW1, seed=3)
    assert status.of_result(result).name == status.GRADER_ERROR
    assert "cannot start a sandboxed child here" in result.grader_error
    assert any(n.startswith("containment: none") for n in result.notes)


@pytest.mark.sandbox
def test_a_students_own_exit_is_theirs_and_not_retried(tmp_path):
    exits = SOLUTION.read_text() + "\nimport os\nos._exit(3)\n"
    path = tmp_path / "functions.py"
    path.write_text(exits)
    result = engine.grade(path, HW1, seed=3)
    assert not result.grader_error and result.score == 0
    assert not any(n.startswith("started the child again") for n in result.notes)
    assert any("exited with status 3" in line for o in result.outcomes for line in o.lines)
