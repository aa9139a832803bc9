"""Grading a class: resumable batches, and what the class got wrong."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.grading import summary

SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"
BASE = (SUBMISSIONS / "correct_base.py").read_text()


def make_class(root: Path, plan: dict[str, tuple[str, ...]]) -> Path:
    subs = root / "subs"
    for student, mistakes in plan.items():
        (subs / student).mkdir(parents=True)
        text = "\n\n".join([BASE, *((SUBMISSIONS / f"{m}.py").read_text() for m in mistakes)])
        (subs / student / "functions.py").write_text(text)
    return subs


def batch(root: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "course_nn", "grade-batch", str(root / "subs"), "-a", "hw1", "--jobs", "1",
           "--csv", str(root / "grades.csv"), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def rows(root: Path) -> dict[str, dict]:
    with open(root / "grades.csv") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def graded_this_run(proc: subprocess.CompletedProcess) -> int:
    line = next(ln for ln in proc.stdout.splitlines() if "graded this run" in ln)
    return int(line.split("; ")[-1].split()[0])


def proc_result(stdout: str) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], 0, stdout, "")


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_rerun_grades_only_what_changed_and_force_regrades_all(tmp_path):
    make_class(tmp_path, {"ann": (), "bob": (), "cat": ("linear_bias_not_summed",)})
    first = batch(tmp_path)
    assert graded_this_run(first) == 3
    before = rows(tmp_path)
    again = batch(tmp_path)
    assert graded_this_run(again) == 0 and "3 unchanged" in again.stderr
    assert rows(tmp_path) == before
    fixed = tmp_path / "subs" / "cat" / "functions.py"
    fixed.write_text(BASE)  # cat fixes the bias gradient
    third = batch(tmp_path)
    assert graded_this_run(third) == 1
    assert float(rows(tmp_path)["cat"]["score"]) == pytest.approx(100.0)
    assert graded_this_run(batch(tmp_path, "--force")) == 3


@pytest.mark.slow
@pytest.mark.sandbox
def test_an_interrupted_batch_keeps_a_readable_gradebook_and_resumes(tmp_path):
    make_class(tmp_path, {f"s{i}": () for i in range(6)})
    cmd = [sys.executable, "-m", "course_nn", "grade-batch", str(tmp_path / "subs"), "-a", "hw1", "--jobs", "1",
           "--csv", str(tmp_path / "grades.csv")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stderr:  # plain progress lines (stderr is not a terminal)
            if line.startswith("[2/6]"):
                break
        os.killpg(proc.pid, signal.SIGKILL)  # killed mid-way: no chance to clean up
    finally:
        proc.wait(timeout=60)
    done = rows(tmp_path)
    assert 2 <= len(done) < 6
    assert all(float(r["score"]) == pytest.approx(100.0) for r in done.values())
    resumed = batch(tmp_path)
    assert graded_this_run(resumed) == 6 - len(done)
    assert len(rows(tmp_path)) == 6


@pytest.mark.slow
@pytest.mark.sandbox
def test_ctrl_c_keeps_finished_results_and_says_how_to_resume(tmp_path):
    make_class(tmp_path, {f"s{i}": () for i in range(6)})
    cmd = [sys.executable, "-m", "course_nn", "grade-batch", str(tmp_path / "subs"), "-a", "hw1", "--jobs", "1",
           "--csv", str(tmp_path / "grades.csv")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in proc.stderr:
        if line.startswith("[2/6]"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-1500:]
    assert "interrupted" in err and "again" in err and "Traceback" not in err
    done = len(rows(tmp_path))
    assert 2 <= done <= 6
    assert (tmp_path / "grades_summary.md").is_file()
    # the counts say what finished, not what was planned ("graded 2 of 6 ... 6 graded this run" was wrong)
    line = next(ln for ln in out.splitlines() if "graded this run" in ln)
    assert line.startswith(f"graded {done} of 6 submissions") and graded_this_run(proc_result(out)) == done
    assert f"({6 - done} not reached: interrupted)" in line if done < 6 else "not reached" not in line
    assert f"interrupted: {done} of 6 students are in" in err


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_summary_counts_planted_mistakes(tmp_path):
    make_class(tmp_path, {"ann": (), "bob": ("linear_bias_not_summed",), "cat": ("linear_bias_not_summed",),
                          "dan": ("sigmoid_ignores_grad_output",)})
    proc = batch(tmp_path, "--jobs", "2")
    text = (tmp_path / "grades_summary.md").read_text()
    assert "4 submissions" in text
    assert "| Linear | backward |" in text and "| 2 |" in text.split("| Linear | backward |")[1].splitlines()[0]
    bias = [ln for ln in text.splitlines() if "sum the bias gradient" in ln]
    assert bias and bias[0].startswith("- 2 students (Linear)"), text
    assert any(ln.startswith("- 1 student (Sigmoid)") for ln in text.splitlines()), text
    png = (tmp_path / "grades_histogram.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    assert "2 students: Did you forget to sum the bias gradient" in proc.stdout
    # Two workers, one torch import in the grader and one zygote that forked every child.
    how = next(ln for ln in proc.stdout.splitlines() if ln.startswith("how: "))
    forked = [(tmp_path / "grades_results" / s / "results.json").read_text() for s in ("ann", "bob", "cat", "dan")]
    if "zygote off" in how:
        pytest.skip(how)
    assert how == "how: workers forked from one torch import, sharing one zygote"
    assert all("zygote: the child was forked" in text for text in forked)


def test_hints_are_merged_across_cases_and_tips_do_not_count():
    s = summary.ClassSummary(__import__("course_nn.registry", fromlist=["get"]).get("hw1"))
    line = ("Linear.backward [{}]: gradient for `bias` has shape {} — did you forget to sum the bias gradient "
            "over the batch{}?")
    for case, shape, dim in (("hidden #1", "(4, 7)", " (dim 0)"), ("visible #2", "(3, 2)", "")):
        s.add({"score": 80, "tests": [
            {"name": "Linear: backward", "score": 0, "max_score": 11.25, "tags": ["hw1", "task1_5", "backward"],
             "output": line.format(case, shape, dim) + "\ntip (no points lost): you could return None"}]})
    assert s.hints.most_common(1)[0][1] == 2
    assert not any("tip" in hint.lower() for _task, hint in s.hints)
    assert s.checks[("Linear", "backward")].lost == 2


PEEK = '''

_LEAK = []
for _path in {paths!r}:
    try:
        _LEAK.append(open(_path).read()[:300])
    except OSError:
        _LEAK.append("refused")
print("LEAK " + " | ".join(_LEAK))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        raise RuntimeError("LEAK " + " | ".join(_LEAK))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
'''


@pytest.mark.slow
@pytest.mark.parametrize("children", ["zygote", "fresh"])
@pytest.mark.sandbox
def test_a_student_cannot_read_the_class_files_or_the_gradebook(children):
    """bob, graded after alice, reads her submission, her results and the gradebook, and raises
    them where a visible case shows an exception. The class lives outside /tmp (the child's /tmp is
    its own), readable by everyone, as a shared course folder would be."""
    import secrets
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix=".class-", dir=Path(__file__).resolve().parents[1]))
    try:
        marker = f"alice-private-{secrets.token_hex(6)}"
        make_class(root, {"alice": ()})
        alice = root / "subs" / "alice" / "functions.py"
        alice.write_text(f"# {marker}\n" + alice.read_text())
        (root / "subs" / "bob").mkdir()
        (root / "subs" / "bob" / "functions.py").write_text(BASE + PEEK.format(paths=[
            str(alice), str(root / "grades_results" / "alice" / "results.json"), str(root / "grades.csv")]))
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        batch(root, *(["--no-zygote"] if children == "fresh" else []), check=False)
        data = json.loads((root / "grades_results" / "bob" / "results.json").read_text())
        # the attempt ran (its printout is in the instructor-only output) and read nothing of alice's...
        assert "LEAK refused | refused | refused" in data["extra_data"]["submission_output"]
        whole = json.dumps(data)
        assert marker not in whole and "alice" not in whole
        assert "student,score" not in whole and '"score": 100' not in whole
        # ...and a file the gate refuses shows bob none of what its run produced
        assert "LEAK refused" not in json.dumps({k: v for k, v in data.items() if k != "extra_data"})
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_progress_bar_on_a_terminal_still_gets_forked_workers(tmp_path):
    """On a terminal the progress bar runs a thread; the workers must be forked before it starts,
    or every batch an instructor watches would fall back to fresh interpreters."""
    import pty

    make_class(tmp_path, {"ann": (), "bob": ()})
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "course_nn", "grade-batch", str(tmp_path / "subs"), "-a", "hw1",
                               "--jobs", "2", "--csv", str(tmp_path / "grades.csv")],
                              stdout=subprocess.PIPE, stderr=follower, text=True, timeout=600)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    how = next(ln for ln in proc.stdout.splitlines() if ln.startswith("how: "))
    assert "fresh interpreters" not in how, how


# ----------------------------------------------------------------------------- grades_summary.md

HW1 = __import__("course_nn.registry", fromlist=["get"]).get("hw1")


def _student(score: float, *tests: dict, status: str = "ok") -> dict:
    return {"score": score, "tests": list(tests), "extra_data": {"status": status}}


def _test(task: str, check: str, score: float, max_score: float, output: str = "") -> dict:
    return {"name": f"{task}: {check}", "score": score, "max_score": max_score, "output": output,
            "tags": ["hw1", "task", check]}


@pytest.mark.slow
def test_each_mistake_is_one_hint_in_the_graders_words_whatever_the_check(tmp_path):
    from course_nn.grading import engine, report

    path = tmp_path / "functions.py"  # two classic mistakes, each seen by backward, gradcheck and edge
    path.write_text("\n\n".join([BASE, *((SUBMISSIONS / f"{m}.py").read_text()
                                         for m in ("linear_bias_mean_not_sum", "sigmoid_backward_uses_input"))]))
    data = report.results_json(engine.grade(path, HW1, seed=3, isolate=False))
    lines = [ln for t in data["tests"] if t["name"].startswith("Linear") for ln in t["output"].splitlines()]
    assert any("finite differences" in ln for ln in lines)  # the symptom gradcheck words differently
    s = summary.ClassSummary(HW1)
    s.add(data)
    assert dict(s.hints) == {
        ("Linear", "Divided by the batch size N once too often?"): 1,
        ("Sigmoid", "You used the input z where the derivative needs the output σ(z): dσ/dz = σ(z)(1 − σ(z)); "
                    "save the output"): 1}


def test_missing_and_wrong_assignment_files_are_counted_apart_once():
    from course_nn.grading import report

    s = summary.ClassSummary(HW1)
    s.add(_student(90.0, _test("Linear", "backward", 1.25, 11.25,
                               "Linear.backward [visible #1]: dJ/dbias[0] expected 1, got 2; likely mistake: "
                               "divided by the batch size N once too often?")))
    s.add(report.failure_results("subs/dave: no functions.py inside", extra={"status": "missing"}))
    s.add(report.failure_results("mlp.py does not match hw1: it defines MLP from hw2",
                                 extra={"status": "wrong assignment"}))
    text = s.markdown()
    assert s.totals == [90.0] and "1 submissions, mean 90.00" in text
    assert "1 missing, 1 wrong assignment" in text and "1 missing, 1 wrong assignment" in s.printed()
    assert "not defined" not in text and "mlp.py" not in text  # none of their text reaches the hints


def test_a_task_that_could_not_run_counts_as_zero_in_each_of_its_checks():
    s = summary.ClassSummary(HW1)
    sigmoid = HW1.task("Sigmoid")
    s.add(_student(80.0, {"name": "Sigmoid: every check (it could not run)", "score": 0.0,
                          "max_score": float(sigmoid.points), "output": "Sigmoid.forward raised ValueError",
                          "tags": ["hw1", "task1_3", "all"]}))
    rows = [ln for ln in s.markdown().splitlines() if ln.startswith("| Sigmoid |")]
    assert [ln.split("|")[2].strip() for ln in rows] == [c.key for c in HW1.categories]  # no "all" row
    for c in HW1.categories:
        stats = s.checks[("Sigmoid", c.key)]
        assert stats.scores == [0.0] and stats.max_score == pytest.approx(HW1.max_score(sigmoid, c)) and stats.lost == 1


def test_the_top_hints_have_one_order_whatever_order_students_finish_in():
    line = "{task}.backward [visible #1]: wrong; likely mistake: {hint}"
    students = [_student(50.0, _test(task, "backward", 0.0, 4.5, line.format(task=task, hint=hint)))
                for task, hint in [("Linear", "b?"), ("Sigmoid", "a?"), ("Linear", "a?"), ("Sigmoid", "a?"),
                                   ("ReLU", "c?")]]
    texts = []
    for order in (students, students[::-1], students[2:] + students[:2]):
        s = summary.ClassSummary(HW1)
        for st in order:
            s.add(st)
        texts.append((s.markdown(), s.printed()))
    assert texts[0] == texts[1] == texts[2]
    hints = [ln for ln in texts[0][0].splitlines() if ln.startswith("- ")]
    # by count, then the registry's task order (Sigmoid, ReLU, Linear), then the text
    assert hints == ["- 2 students (Sigmoid): A?", "- 1 student (ReLU): C?", "- 1 student (Linear): A?",
                     "- 1 student (Linear): B?"]


def test_scores_fall_in_ten_point_bins(tmp_path):
    s = summary.ClassSummary(HW1)
    for score in (0.0, 9.99, 10.0, 55.0, 99.9, 100.0):
        s.add(_student(score))
    assert [(lo, hi) for lo, hi, _ in s.bins()] == [(float(x), float(x + 10)) for x in range(0, 100, 10)]
    assert [n for _, _, n in s.bins()] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    text = s.markdown()
    assert "| 0 ≤ score < 10 | 2 |" in text and "| 90 ≤ score ≤ 100 | 2 |" in text
    s.histogram(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("line, hint", [
    ("shape for `z` is wrong?", "Shape for `z` is wrong?"),  # a bare question keeps its first letter
    ("Linear.backward [visible #1]: did you forget to sum over the batch?", "Did you forget to sum over the batch?"),
    ("ReLU.backward [visible #2]: wrong at z = 0 — did you use z > 0 where z >= 0 was meant?",
     "Did you use z > 0 where z >= 0 was meant?"),
])
def test_a_question_in_feedback_is_the_hint_word_for_word(line, hint):
    assert summary.diagnosis(line) == hint
