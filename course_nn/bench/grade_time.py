"""How long grading one hw1 submission takes, compared with a bare ``python -c "import torch"``.

Both are timed the same way: wall time of a fresh subprocess (``time.perf_counter`` around ``subprocess.run``),
alternating grade / import-torch, several repeats, median of each. Their ratio says how much the autograder
adds on top of the cost of starting Python with torch, which every grading run pays anyway.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMPORT_TORCH = [sys.executable, "-c", "import torch"]


def grade_command(submission: Path, json_out: Path) -> list[str]:
    """The pinned grader CLI, run with this interpreter so the same torch and course_nn are used."""
    return [sys.executable, "-m", "course_nn", "grade", str(submission), "--assignment", "hw1", "--json", str(json_out)]


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**_child_env(), **(env or {})})
    return time.perf_counter() - start, proc


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def mode_env(mode: str, tmp: str) -> dict[str, str]:
    """The grader's environment to measure in containment ``mode`` ("" = whatever the probe picks).
    Container mode refuses a course whose secrets other users may read (a git clone): it is timed
    with an empty course folder of its own, closed, as a Gradescope image has no checkout at all."""
    if not mode:
        return {}
    env = {"COURSE_NN_CONTAINMENT": mode}
    if mode == "container":
        course = Path(tmp) / "course"
        course.mkdir(mode=0o700)
        env["COURSE_NN_ROOT"] = str(course)
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def measure_grade(submission: Path, repeats: int = 5, timeout: float = 300.0, mode: str = "") -> dict[str, Any]:
    """Median wall seconds of grading ``submission`` (in containment ``mode``, see ``mode_env``) and
    of importing torch, and their ratio.

    A first, untimed grading run checks that the grader exists and finishes with exit 0; if it does not,
    the result carries ``grade_seconds: None`` and a one-line ``grade_note`` instead of failing the bench.
    """
    result: dict[str, Any] = {
        "grade_seconds": None,
        "import_torch_seconds": None,
        "grade_over_import_torch": None,
        "grade_repeats": repeats,
        "grade_command": None,
        "grade_note": None,
    }
    with tempfile.TemporaryDirectory(prefix="course_nn_bench_grade_") as tmp:
        json_out = Path(tmp) / "results.json"
        env = mode_env(mode, tmp)
        cmd = grade_command(submission, json_out)
        result["grade_command"] = " ".join(["python", *cmd[1:4], str(submission), *cmd[5:-1], "<tmp>/results.json"])
        try:
            _, probe = _run(cmd, timeout, env)  # untimed: checks the grader works and warms the OS file cache
            if probe.returncode != 0:
                reason = _last_line(probe.stderr) or _last_line(probe.stdout) or f"exit code {probe.returncode}"
                result["grade_note"] = f"grader not available or failed (exit {probe.returncode}): {reason[:200]}"
                return result
            _run(IMPORT_TORCH, timeout)
        except subprocess.TimeoutExpired:
            result["grade_note"] = f"grading did not finish within {timeout:.0f} s; not timed"
            return result
        if not json_out.is_file():
            result["grade_note"] = "grader exited 0 but wrote no results JSON; timings kept"
        grade_times: list[float] = []
        import_times: list[float] = []
        for _ in range(repeats):
            try:
                seconds, proc = _run(cmd, timeout, env)
                import_seconds = _run(IMPORT_TORCH, timeout)[0]
            except subprocess.TimeoutExpired:
                result["grade_note"] = f"a timed grading run did not finish within {timeout:.0f} s"
                return result
            if proc.returncode != 0:
                result["grade_note"] = f"a timed grading run failed (exit {proc.returncode}): {_last_line(proc.stderr)[:200]}"
                return result
            grade_times.append(seconds)
            import_times.append(import_seconds)
    grade, imp = statistics.median(grade_times), statistics.median(import_times)
    result.update(
        grade_seconds=grade,
        import_torch_seconds=imp,
        grade_over_import_torch=grade / imp,
        grade_seconds_all=grade_times,
        import_torch_seconds_all=import_times,
    )
    return result


def measure_batch(submission: Path, copies: int = 20, jobs: int | None = None, timeout: float = 900.0,
                  import_torch_seconds: float | None = None, mode: str = "") -> dict[str, Any]:
    """Class-scale grading: ``course-nn grade-batch`` of ``copies`` copies of ``submission`` with
    ``--jobs`` = cores (in containment ``mode``), per submission and against a bare ``import torch``;
    then a rerun of the unchanged batch (every student cached)."""
    jobs = jobs or os.cpu_count() or 1
    result: dict[str, Any] = {"grade_batch_seconds_per_submission": None, "grade_batch_over_import_torch": None,
                              "grade_batch_rerun_seconds": None, "grade_batch_copies": copies, "grade_batch_jobs": jobs,
                              "grade_batch_note": None}
    with tempfile.TemporaryDirectory(prefix="course_nn_bench_batch_") as tmp:
        subs = Path(tmp) / "submissions"
        for i in range(copies):
            (subs / f"student{i:03d}").mkdir(parents=True)
            (subs / f"student{i:03d}" / "functions.py").write_bytes(submission.read_bytes())
        cmd = [sys.executable, "-m", "course_nn", "grade-batch", str(subs), "--assignment", "hw1", "--jobs", str(jobs),
               "--csv", str(Path(tmp) / "grades.csv"), "--quiet"]
        env = mode_env(mode, tmp)
        try:
            seconds, proc = _run(cmd + ["--force"], timeout, env)
            if proc.returncode != 0:
                result["grade_batch_note"] = f"grade-batch failed (exit {proc.returncode}): {_last_line(proc.stderr)[:200]}"
                return result
            import csv

            with open(Path(tmp) / "grades.csv") as fh:
                per_student = sorted(float(r["seconds"]) for r in csv.DictReader(fh) if r.get("seconds"))
            rerun, _ = _run(cmd, timeout, env)
            imp = import_torch_seconds or statistics.median(_run(IMPORT_TORCH, timeout)[0] for _ in range(3))
        except subprocess.TimeoutExpired:
            result["grade_batch_note"] = f"grade-batch did not finish within {timeout:.0f} s"
            return result
    result.update(grade_batch_seconds_per_submission=seconds / copies,
                  grade_batch_over_import_torch=seconds / copies / imp, grade_batch_seconds=seconds,
                  grade_batch_rerun_seconds=rerun, grade_batch_import_torch_seconds=imp)
    # Once every worker's zygote is up, a student costs one fork: the median student's own time over
    # the workers running side by side is what each further student of a large class adds.
    steady = per_student[:-jobs] if len(per_student) > jobs else per_student
    if steady:
        result["grade_batch_steady_seconds_per_submission"] = statistics.median(steady) / jobs
    return result
