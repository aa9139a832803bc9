"""Grade a folder of submissions (one subfolder per student) into results.json files and a CSV gradebook.

Each student's folder is graded like `course-nn grade` (sandboxed, hidden tests, partial credit);
one bad submission never stops the batch — it gets a row with its error. A progress bar shows
how far the batch is; --jobs grades several students at once.

Example:
  course-nn grade-batch submissions/ --assignment hw1 --jobs 4 --csv grades.csv
  # -> grades.csv, and grades_results/<student>/results.json for each student
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.grading import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="a folder with one subfolder (or one file) per student")
    options.add_assignment(parser, required=True)
    parser.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2) // 2), metavar="N",
                        help="students graded at once (default: half the CPU cores)")
    parser.add_argument("--csv", required=True, type=options.output_file, metavar="OUT.csv",
                        help="the gradebook to write")
    parser.add_argument("--results-dir", metavar="DIR",
                        help="where each student's results.json goes (default: next to the CSV, <name>_results/)")
    parser.add_argument("--hidden", metavar="FILE", help="hidden-case seed file (JSON {\"seed\": N})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    options.add_limits(parser)


def _students(folder: Path, submission: str) -> list[tuple[str, Path]]:
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            found.append((entry.stem if entry.is_file() else entry.name, entry))
    return found


def _grade_one(student: str, path: str, assignment: str, seed: int | None, out: str, timeout: float,
               memory: int) -> dict:
    """Runs in a worker process; never raises."""
    from course_nn import registry
    from course_nn.grading import engine, report

    started = time.monotonic()
    a = registry.get(assignment)
    row = {"student": student, "score": 0.0, "max_score": a.total_points, "status": "ok", "error": ""}
    try:
        result = engine.grade(path, a, seed=seed, timeout=timeout, memory_bytes=memory)
        report.write_results(result, out)
        row["score"] = round(result.score, 4)
        for task in a.tasks:
            row[task.name] = round(sum(
                a.max_score(task, c) * o.fraction for o in result.outcomes if o.task == task.name
                for c in a.categories if c.key == o.category), 4)
    except Exception as exc:  # noqa: BLE001 - a batch must go on
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = round(time.monotonic() - started, 2)
    return row


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    from course_nn.files import atomic_write_text

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["student"]))
    atomic_write_text(path, buf.getvalue())


def run(args: argparse.Namespace) -> int:
    import multiprocessing

    from tqdm import tqdm

    from course_nn import registry

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; give the folder that holds one subfolder per student")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    a = registry.get(args.assignment)
    students = _students(folder, a.submission)
    if not students:
        raise UsageError(f"{folder}: no student folders or .py files inside")
    seed, seed_file = options.hidden_seed(a, args.hidden)
    csv_path = Path(args.csv)
    results_dir = Path(args.results_dir) if args.results_dir else csv_path.with_name(csv_path.stem + "_results")
    columns = ["student", "score", "max_score", *[t.name for t in a.tasks], "status", "error", "seconds"]
    rows = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_grade_one, name, str(path), a.name, seed,
                               str(results_dir / name / "results.json"), args.timeout, args.memory): name
                   for name, path in students}
        bar = tqdm(total=len(futures), desc=f"grading {a.name}", unit="student", disable=args.quiet,
                   file=sys.stderr)
        for fut in as_completed(futures):
            try:
                rows.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - a worker died; record and go on
                rows.append({"student": futures[fut], "score": 0.0, "max_score": a.total_points,
                             "status": "error", "error": f"worker failed: {exc}"})
            bar.update(1)
        bar.close()
    _write_csv(csv_path, rows, columns)
    errors = [r for r in rows if r["status"] != "ok"]
    graded = [r["score"] for r in rows if r["status"] == "ok"]
    mean = f"{sum(graded) / len(graded):.2f}" if graded else "-"
    print(f"graded {len(graded)} of {len(rows)} submissions of {a.name}: mean {mean} / {a.total_points:g}, "
          f"{len(errors)} grader error(s) -> {csv_path}, {results_dir}/<student>/results.json"
          + (f" (hidden cases from {seed_file})" if seed_file else " (no hidden-case seed file: public fallback seed)"))
    return 0
