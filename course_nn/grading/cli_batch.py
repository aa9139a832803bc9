"""Grade a folder of submissions (one subfolder per student) into results.json files and a CSV gradebook.

Each student's folder is graded like `course-nn grade` (sandboxed, hidden tests, partial credit);
one bad submission never stops the batch — it gets a row with its status and reason. A progress
bar shows how far the batch is (a plain line per student when stderr is not a terminal); --jobs
grades several students at once. No student's code can see the class folder, another student's
results or the gradebook: each child's file system holds only the system, torch and its own file
(without namespaces, as in a default Docker container: each student runs as a uid of its own that
Landlock, or the folders' permissions, keep out; grading is refused while neither would).

Where it writes is checked before anything is graded: the CSV's folder must exist, and
--results-dir (default: <csv name>_results/ next to the CSV) is created if missing. Each student's
results.json and the CSV are written as soon as that student is graded, so an interrupted batch
keeps what it finished. The command's own outputs are skipped if they lie inside DIR; none may lie
inside a student's folder or replace a student's file (refused in one line before anything runs).

The status column: ok, empty (no code), import error (syntax error or a crash at import), not
started (the unchanged stub), missing (no submission file; score 0), wrong assignment (another
assignment's file, e.g. hw2's mlp.py for hw1; score 0), or grader error (the grader failed, not the
student: the score is left blank, never recorded as 0). The error column gives
the one-line reason, the note column a misnamed file that was graded anyway and what the grader
flagged for review by hand (e.g. a result from the child that its schema refused).

Reruns are cheap: a student is graded again only when their files, the assignment, the hidden-case
seed or the grader itself changed (the last grading is cached beside their results.json); --force
regrades everyone. Ctrl-C keeps every finished result and writes the gradebook and summary of what
is done; the totals count what finished ("N graded this run", and how many were not reached). torch is imported twice per batch, not once per student: by this command, whose workers
are forked from it, and by one zygote, which forks one contained child per student (--no-zygote
starts a fresh interpreter per student instead). The line "how: ..." says how the workers started.

What the class got wrong goes beside the CSV: <name>_summary.md (per task and check, the mean and
how many students lost points; the most frequent hints with their counts, one per mistake, in a
fixed order; the scores in 10-point bins; missing and wrong-assignment files counted apart) and
<name>_histogram.png, and a short summary is printed at the end.

Example:
  course-nn grade-batch submissions/ --assignment hw1 --jobs 4 --csv grades.csv
  # -> grades.csv, and grades_results/<student>/results.json for each student

Exit status: 0 when every submission was graded, 1 when the grader failed on some (see the CSV),
2 for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from course_nn import cli_types
from course_nn.errors import UsageError
from course_nn.grading import gradebook, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="a folder with one subfolder (or one file) per student")
    cli_types.add_assignment(parser, guessed=False)
    parser.add_argument("--jobs", "-j", type=cli_types.positive_int, default=max(1, (os.cpu_count() or 2) // 2),
                        metavar="N", help="students graded at once (default: half the CPU cores)")
    parser.add_argument("--csv", required=True, metavar="OUT.csv", type=cli_types.output_file("grades.csv"),
                        help="the gradebook to write (a file path; its folder must exist)")
    parser.add_argument("--results-dir", metavar="DIR",
                        help="where each student's results.json goes (default: next to the CSV, <name>_results/; "
                             "created if missing)")
    options.add_hidden_seed(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    parser.add_argument("--force", action="store_true",
                        help="regrade every student, even those whose files and grader are unchanged since last run")
    parser.add_argument("--no-zygote", action="store_true",
                        help="start a fresh interpreter per student instead of forking from one that imported torch")
    options.add_limits(parser)
    cli_types.exit_at_once(parser)


def _is_output(entry: Path, outputs: list[Path]) -> bool:
    """This command's own output (the CSV, the results folder, or a results folder of an earlier
    run: subfolders with a results.json and no Python file)."""
    resolved = entry.resolve()
    if any(resolved == o or o in resolved.parents for o in outputs):
        return True
    return (entry.is_dir() and entry.name.endswith("_results") and any(entry.glob("*/results.json"))
            and not any(entry.rglob("*.py")))


def _students(folder: Path, outputs: list[Path]) -> tuple[list[tuple[str, Path]], list[str]]:
    """(student name, path) per student, and the entries skipped as this command's outputs."""
    found, skipped = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")) or not (entry.is_dir() or entry.suffix in (".py", ".ipynb")):
            continue
        if _is_output(entry, outputs):
            skipped.append(entry.name)
            continue
        found.append((entry.stem if entry.is_file() else entry.name, entry))
    return found, skipped


_GRADING = False  # in a worker: a student is being graded (SIGTERM stops that grading)


def _grade_one(*args, **kwargs) -> dict:
    """Runs in a worker process: one student, stoppable by the main process (see _worker_init)."""
    global _GRADING
    _GRADING = True
    try:
        return _grade_student(*args, **kwargs)
    finally:
        _GRADING = False


def _grade_student(student: str, path: str, assignment: str, seed: int | None, out: str, timeout: float,
                   memory: int, key: str = "", hide: tuple[str, ...] = (), zygote: bool = True) -> dict:
    """Never raises (but for an interrupt). A student's failure is a status with a score; a
    failure of the grader is status "grader error" with no score."""
    from course_nn import registry
    from course_nn.files import write_json
    from course_nn.grading import engine, report, status

    started = time.monotonic()
    a = registry.get(assignment)
    row = {"student": student, "score": "", "max_score": a.total_points, "status": status.OK, "error": "",
           "note": ""}
    try:
        target = Path(path)
        if target.is_dir():
            try:
                target, note = status.find_submission(target, a, batch_hint=False)
                row["note"] = note or ""
            except UsageError as err:  # nothing (or nothing usable) submitted: the student's 0
                row.update(score=0.0, status=status.MISSING, error=str(err))
                write_json(out, report.failure_results(str(err), extra={"status": status.MISSING}))
                row["seconds"] = round(time.monotonic() - started, 2)
                return row
        wrong = options.wrong_assignment(target, a)
        if wrong is not None:  # another assignment's file: the student's 0, as check and grade say
            reason = f"{wrong[1]} (handed in for the wrong assignment?)"
            row.update(score=0.0, status=status.WRONG_ASSIGNMENT, error=reason)
            write_json(out, report.failure_results(reason, extra={"status": status.WRONG_ASSIGNMENT,
                                                                  "status_reason": reason}))
            row["seconds"] = round(time.monotonic() - started, 2)
            return row
        result = engine.grade(target, a, seed=seed, timeout=timeout, memory_bytes=memory, zygote=zygote,
                              hide=[Path(p) for p in hide])
        state = status.of_result(result)
        if state.name == status.GRADER_ERROR:  # no score, no results.json, not cached: graded again next run
            row.update(status=state.name, error=state.reason)
            row["seconds"] = round(time.monotonic() - started, 2)
            return row
        found = row["note"]  # results.json adds how the file was read (result.source_notes) itself
        flagged = [n for n in result.notes if any(n in o.review for o in result.outcomes)]  # review by hand
        row.update(score=round(result.score, 4), status=state.name, error=state.reason,
                   note="; ".join(filter(None, [found, *result.source_notes, *flagged])))
        for task, (earned, _possible) in result.points_by_task().items():
            row[task] = round(earned, 4)
        report.write_results(result, out, [found] if found else None)
        if key:
            from course_nn.grading import cache

            row["seconds"] = round(time.monotonic() - started, 2)
            cache.store(Path(out), key, row)  # the very row the gradebook gets, so a rerun shows the same
    except Exception as exc:  # noqa: BLE001 - a batch must go on; this one is the grader's failure
        row.update(status=status.GRADER_ERROR, error=f"{type(exc).__name__}: {exc}")
        if not isinstance(exc, OSError):
            row["score"] = ""  # never a grader failure recorded as the student's score
    row.setdefault("seconds", round(time.monotonic() - started, 2))
    return row


def _stop_grading(_signum, _frame) -> None:
    if _GRADING:
        raise KeyboardInterrupt  # unwinds the grading: its child is killed, its sandbox removed


def _worker_init(zygote=None, slots=None, own_zygote: bool = False) -> None:
    """Each worker: Ctrl-C is the main process's to handle (it stops the workers with SIGTERM, which
    ends the student being graded cleanly); then the worker's zygote — a socket of the batch's
    shared one when forked, or its own, started now so its torch import overlaps the worker's."""
    import signal

    from course_nn.grading import sandbox

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_grading)
    if zygote is not None:
        sandbox.adopt_zygote(zygote, slots.get())
    elif own_zygote:
        try:
            sandbox.zygote_for(sandbox.containment(), wait=False)
        except Exception:  # noqa: BLE001 - grading falls back (and says why) on first use
            pass


def _stop_workers(pool: ProcessPoolExecutor, interrupted: bool) -> None:
    """Shut the pool down; after an interrupt, first stop every worker's current student."""
    if interrupted:
        import multiprocessing
        import signal

        for worker in multiprocessing.active_children():
            try:
                os.kill(worker.pid, signal.SIGTERM)
            except OSError:
                pass
    pool.shutdown(wait=True, cancel_futures=True)


def _start_workers(a, jobs: int, no_zygote: bool, early=None) -> tuple[ProcessPoolExecutor, object, str]:
    """The worker pool, and how it was started (printed for the instructor).

    torch is imported once per batch, not once per worker: the shared zygote starts first (its
    import overlaps ours), this process imports torch and the grader, warms up on public cases with
    one thread, and forks the workers. Forking needs a process with exactly one thread (no torch
    thread pool, no CUDA); otherwise the workers are fresh interpreters, each with its own zygote.
    """
    import multiprocessing

    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # numpy (imported by torch) starts no BLAS thread pool here
    from course_nn.grading import engine, sandbox
    from course_nn.grading.child import contain

    zygote, why = (None, "zygote off (--no-zygote)") if no_zygote else sandbox.start_zygote(
        sandbox.containment(), jobs, early)
    import gc

    gc.disable()  # importing torch runs ~400 collections (a sixth of its CPU) that find almost nothing
    try:
        engine.warm_up(a)
        from course_nn.grading import report, status  # noqa: F401  what _grade_student imports: once, here
    finally:
        gc.enable()
    # What this process holds now stays out of every worker's collections: a full one walked it all,
    # ~0.1 s per worker every dozen students, and wrote to (so copied) every page of it. (Collecting
    # first would walk it once more, 0.1 s, to free a few thousand objects of the warm-up.)
    gc.freeze()
    threads = contain.thread_count()
    if threads == 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        slots = ctx.SimpleQueue()  # one socket of the shared zygote per worker
        for i in range(jobs):
            slots.put(i)
        pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init, initargs=(zygote, slots))
        pool.submit(os.getpid).result()  # a fork pool forks every worker now, while we have one thread
        return pool, zygote, ("workers forked from one torch import, sharing one zygote" if zygote is not None
                              else f"workers forked, {why}")
    if zygote is not None:
        zygote.close()
    why = f"{threads} threads after importing torch" if threads != 1 else "this platform cannot fork"
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(None, None, not no_zygote))
    return pool, None, f"workers are fresh interpreters ({why})"


def _progress(args, total: int, name: str):
    """A progress bar with rate and time left on a terminal; elsewhere (logs, CI) one plain line per student."""
    from tqdm import tqdm

    if args.quiet or total == 0:
        return lambda row: None, lambda: None
    if sys.stderr.isatty():
        bar = tqdm(total=total, desc=f"grading {name}", unit="student", file=sys.stderr)
        return lambda row: bar.update(1), bar.close
    done = [0]
    started = time.monotonic()

    def line(row: dict) -> None:
        done[0] += 1
        score = "-" if row["score"] == "" else f"{row['score']:g}"
        rate = done[0] / max(time.monotonic() - started, 1e-6)
        left = (total - done[0]) / rate
        print(f"[{done[0]}/{total}] {row['student']}: {score} ({row['status']}) — {rate:.2f} students/s, "
              f"{left:.0f} s left", file=sys.stderr, flush=True)
    return line, lambda: None


def _grade_todo(args, a, todo: list[tuple[str, Path, str]], seed: int | None, seed_file: str, results_dir: Path,
                csv_path: Path, rows: list[dict], columns: list[str]) -> tuple[bool, str]:
    """Grade ``todo`` into ``rows``, writing the CSV after every student. Returns (interrupted, how
    the workers were started)."""
    from course_nn.grading import status

    if not todo:
        return False, ""
    update, close = (lambda row: None), (lambda: None)
    pool = zygote = None
    how = ""
    interrupted = False
    # What no child may read: the seed, and the class's own files (other students' work, their
    # results, the gradebook and what the class got wrong).
    hide = tuple(str(p) for p in ([Path(seed_file)] if seed_file else [])
                 + [Path(args.folder), results_dir, csv_path, *gradebook.summary_paths(csv_path)])
    from course_nn.grading import sandbox

    jobs = min(args.jobs, len(todo))
    zygote = None if args.no_zygote else sandbox.early_zygote(jobs)  # its torch import overlaps the probe
    try:
        sandbox.ready([Path(p) for p in hide])  # refused in one line when a child could read them
    except BaseException:
        if zygote is not None:
            zygote.close()
        raise
    try:
        pool, zygote, how = _start_workers(a, jobs, args.no_zygote, zygote)
        # The workers are forked: threads here are safe now (a terminal's progress bar runs one),
        # and the summary's plotting import overlaps the grading instead of following it.
        update, close = _progress(args, len(todo), a.name)
        from course_nn.grading import summary

        threading.Thread(target=summary.preload, daemon=True).start()
        futures = {pool.submit(_grade_one, name, str(path), a.name, seed, str(results_dir / name / "results.json"),
                               args.timeout, args.memory, key, hide, not args.no_zygote): name
                   for name, path, key in todo}
        for fut in as_completed(futures):
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died: the grader's failure, not a score
                row = {"student": futures[fut], "score": "", "max_score": a.total_points,
                       "status": status.GRADER_ERROR, "error": f"worker failed: {type(exc).__name__}: {exc}"}
            rows.append(row)
            gradebook.write_csv(csv_path, rows, columns)  # after every student: an interrupted batch keeps its work
            update(row)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        close()
        if pool is not None:
            _stop_workers(pool, interrupted)
        if zygote is not None:
            zygote.close()
    return interrupted, how


def _refuse_overwriting_students(folder: Path, csv_path: Path, results_dir: Path, seed_file: str) -> None:
    """Every file this batch writes stays out of every submission in ``folder`` (a .py file, or a
    folder holding one) and off the seed file (files.refuse_overwrite): checked before anything else."""
    from course_nn.files import refuse_overwrite

    entries = [e for e in sorted(folder.iterdir()) if not e.name.startswith((".", "_"))
               and ((e.is_file() and e.suffix == ".py") or (e.is_dir() and any(e.rglob("*.py"))))]
    reads = [seed_file or None]
    for out in (csv_path, *gradebook.summary_paths(csv_path)):
        refuse_overwrite(out, "--csv", reads=reads, submissions=entries)
    refuse_overwrite(results_dir, "--results-dir", reads=reads, submissions=entries)
    for entry in entries:  # each student's results.json goes to <results-dir>/<student>/
        name = entry.stem if entry.is_file() else entry.name
        refuse_overwrite(results_dir / name / "results.json", "--results-dir", reads=reads, submissions=entries,
                         shown=f"--results-dir {results_dir}: {name}'s results.json")


def run(args: argparse.Namespace) -> int:
    from course_nn import registry
    from course_nn.files import check_output_dir, check_output_file
    from course_nn.grading import cache, status

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; give the folder that holds one subfolder per student")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    a = registry.get(args.assignment)
    csv_path = check_output_file(args.csv, "--csv", "grades.csv")
    results_dir = Path(args.results_dir) if args.results_dir else csv_path.with_name(csv_path.stem + "_results")
    seed, seed_file = options.hidden_seed(a, args.hidden_seed)
    _refuse_overwriting_students(folder, csv_path, results_dir, seed_file)
    students, skipped = _students(folder, [csv_path.resolve(), results_dir.resolve()])
    if not students:
        raise UsageError(f"{folder}: no student folders or .py files inside")
    check_output_dir(results_dir, "--results-dir")
    if skipped:
        print(f"skipped {', '.join(s + '/' for s in skipped)} in {folder}: this command's own output, not a student",
              file=sys.stderr)
    columns = ["student", "score", "max_score", *[t.name for t in a.tasks], "status", "error", "note", "seconds"]
    rows: list[dict] = []
    todo: list[tuple[str, Path, str]] = []
    for name, path in students:
        key = cache.submission_key(path, a.name, seed)
        hit = None if args.force else cache.lookup(results_dir / name / "results.json", key)
        if hit is not None:
            rows.append(hit)
        else:
            todo.append((name, path, key))
    if rows:
        print(f"{len(rows)} unchanged since their last grading (cached; --force regrades them), "
              f"{len(todo)} to grade", file=sys.stderr)
        gradebook.write_csv(csv_path, rows, columns)
    started = time.monotonic()
    cached = len(rows)
    interrupted, how = _grade_todo(args, a, todo, seed, seed_file, results_dir, csv_path, rows, columns)
    this_run = len(rows) - cached  # what finished, not what was planned: an interrupt stops short
    gradebook.write_csv(csv_path, rows, columns)
    failed = [r for r in rows if r["status"] == status.GRADER_ERROR]
    graded = [float(r["score"]) for r in rows if r["score"] != ""]
    mean = f"{sum(graded) / len(graded):.2f}" if graded else "-"
    took = time.monotonic() - started
    print(f"graded {len(graded)} of {len(students)} submissions of {a.name}: mean {mean} / {a.total_points:g}, "
          f"{len(failed)} grader error(s) -> {csv_path}, {results_dir}/<student>/results.json"
          + (f" (hidden cases from {seed_file})" if seed_file else " (no hidden-case seed file: public fallback seed)")
          + f"; {this_run} graded this run in {took:.1f} s"
          + (f" ({len(todo) - this_run} not reached: interrupted)" if interrupted else ""))
    if how:
        print(f"how: {how}")
    print(gradebook.write_summary(a, rows, results_dir, csv_path))
    if interrupted:
        print(f"interrupted: {len(rows)} of {len(students)} students are in {csv_path}; run the same command again "
              "to grade the rest", file=sys.stderr)
        return 130
    return 1 if failed else 0
