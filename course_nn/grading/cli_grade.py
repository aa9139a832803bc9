"""Grade one submission: visible and hidden tests, partial credit, Gradescope's results.json.

The submission runs in a sandboxed child process (python -I, its own folder, scrubbed environment,
a time limit per Function, a memory cap, an unprivileged user when run as root); all scoring
happens in this process. results.json is always written, even when the submission crashes,
hangs or exits early.

Examples:
  course-nn grade submissions/alice/functions.py --assignment hw1 --json alice.json
  course-nn grade --gradescope              # inside Gradescope: /autograder/submission -> results
  course-nn grade mlp.py -a hw2 --json out.json --show-review

PATH is the submission file, or a folder that holds exactly one functions.py / mlp.py (a folder
with one subfolder per student is 'course-nn grade-batch'). A folder with no such file but exactly
one .py file (a misnamed upload such as "functions (1).py") is graded with a note.
--json's folder must exist; nothing is graded when it cannot be written, or when it is the submission
itself or lies inside a submission folder given as PATH.
The hidden cases are drawn from the secret seed and the file's content: the same file always gets
the same cases (and score), a changed file new ones; --replay RUN_ID grades on an earlier run's cases.
As root, the submission runs as 'nobody'; with an interpreter 'nobody' cannot run, grade refuses in
one line (course-nn check, a student's own check, runs anyway).
Under --gradescope, results.json is always written: a misnamed or missing upload gets score 0 and
a visible message saying what to name the file; a failure of the grader itself says so.

Hidden cases use the secret seed from --hidden-seed FILE, $COURSE_NN_HIDDEN or solutions/<hw>/hidden.json
(--hidden FILE, the old spelling, still works in this release and says so).
Exit status: 0 whenever grading completed (whatever the score); 1 when the grader itself failed
(a child that could not start or died twice without a cause it can prove: "grader error", no
score; results.json says it is the course's side); 2 when the grader cannot run here at all.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from course_nn import cli_types
from course_nn.errors import UsageError
from course_nn.grading import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", nargs="?", help="the submission: a file, or a folder holding one")
    cli_types.add_assignment(parser, guessed=True)
    cli_types.exit_at_once(parser)
    parser.add_argument("--json", metavar="OUT", type=cli_types.output_file("results.json"),
                        help="write Gradescope's results.json here (its folder must exist)")
    parser.add_argument("--gradescope", action="store_true",
                        help="read /autograder/submission, write /autograder/results/results.json "
                             "($COURSE_NN_AUTOGRADER_ROOT replaces /autograder)")
    options.add_hidden_seed(parser)
    parser.add_argument("--replay", type=cli_types.run_id, metavar="RUN_ID",
                        help="reproduce the hidden cases of an earlier grading (its run id is in the instructor "
                             "notes: 'note: run id ...', results.json's extra_data.notes)")
    parser.add_argument("--show-review", action="store_true",
                        help="print instructor-only review flags (suspicious code) in the summary")
    options.add_limits(parser)


def _gradescope_paths(args) -> tuple[str, str, str | None, str | None]:
    root = Path(os.environ.get("COURSE_NN_AUTOGRADER_ROOT", "/autograder"))
    assignment = args.assignment
    marker = root / "source" / "assignment.txt"
    if assignment is None and marker.is_file():
        assignment = marker.read_text().strip()
    hidden = args.hidden_seed or (str(root / "source" / "hidden" / f"{assignment}.json") if assignment else None)
    return str(root / "submission"), str(root / "results" / "results.json"), assignment, hidden


def course_side(what: str) -> str:
    """What a student reads when the grader itself failed (results.json's only message)."""
    return ("The autograder could not grade this submission because of a problem on the course's side, not in "
            f"your code ({what}). This score is not your grade; please tell the course staff.")


def _grade_and_print(path: str, assignment, hidden: str | None, args, out: str | None, note: str | None) -> int:
    """Grade and print; returns the exit status (1: a grader error, whose score stays blank)."""
    from course_nn.files import write_json
    from course_nn.grading import engine, report, status

    seed, seed_file = options.hidden_seed(assignment, hidden)
    result = engine.grade(path, assignment, seed=seed, timeout=args.timeout, memory_bytes=args.memory,
                          run_id=getattr(args, "replay", None), hide=[Path(seed_file)] if seed_file else [])
    if seed_file:
        result.notes.insert(0, f"hidden cases from {seed_file}")
    state = status.of_result(result)
    if state.name == status.GRADER_ERROR:  # never a score: no table of zeros, no results.json with one
        if out:
            options.write_or_fail(lambda: write_json(out, report.failure_results(
                course_side(result.grader_error), seconds=result.seconds,
                extra={"status": state.name, "status_reason": state.reason, "notes": result.notes})), out)
        for line in result.notes:
            print(f"note: {line}")
        print(f"\n{state.name}: {state.reason}")
        print(f"score: - / {assignment.total_points:g}  (not graded: the grader failed, not the submission)"
              + (f"  -> {out}" if out else ""))
        return 1
    if out:
        options.write_or_fail(lambda: report.write_results(result, out, [note] if note else None), out)
    for line in filter(None, [note, *result.source_notes]):
        print(f"note: {line}\n")
    if not state.ok:
        print(f"{state.name}: {state.reason}\n")
    print(report.table(result))
    print(report.LEGEND)
    detail = report.details(result, include_review=args.show_review)
    if detail:
        print("\n" + detail)
    for line in result.notes:
        print(f"note: {line}")
    print(f"\npoints: {report.points_line(result)}")
    print(f"score: {result.score:.2f} / {assignment.total_points:g}  ({result.seconds:.1f} s)"
          + (f"  -> {out}" if out else ""))
    return 0


def _run_gradescope(args: argparse.Namespace) -> int:
    """Grade Gradescope's upload folder; whatever happens, results.json is written."""
    from course_nn import registry
    from course_nn.files import write_json
    from course_nn.grading import report, status

    started = time.monotonic()
    folder, out, name, hidden = _gradescope_paths(args)
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)  # Gradescope's results folder, created if missing
    except OSError as err:
        raise UsageError(f"cannot create {Path(out).parent} for results.json: {err.strerror or err}") from None

    def fail(message: str, extra: dict) -> None:
        write_json(out, report.failure_results(message, seconds=time.monotonic() - started, extra=extra))
        print(message)

    def stopped(signum, frame):  # Gradescope's time limit sends SIGTERM: still leave a results.json
        raise TimeoutError("the autograder was stopped before grading finished (its time limit?)")

    signal.signal(signal.SIGTERM, stopped)
    try:
        if name is None:
            raise UsageError("no assignment given: pass --assignment, or build the zip with 'course-nn autograder build'")
        assignment = registry.get(name)
        try:
            path, note = status.find_submission(Path(folder), assignment, for_student=True)
        except UsageError as err:  # the student's upload: score 0 and what to do about it
            fail(str(err), {"status": status.MISSING, "status_reason": str(err)})
            return 0
        return _grade_and_print(str(path), assignment, hidden, args, out, note)
    except BaseException as err:  # noqa: BLE001 - Gradescope must get a results.json, whatever failed
        what = f"{type(err).__name__}: {err}".strip().rstrip(":")
        fail(course_side(what), {"status": status.GRADER_ERROR, "status_reason": what})
        if isinstance(err, KeyboardInterrupt):
            raise
        print(f"course-nn grade: error: {what}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    from course_nn.files import refuse_overwrite

    if args.gradescope:
        return _run_gradescope(args)
    if not args.path:
        raise UsageError("give the submission PATH (or --gradescope inside Gradescope)")
    path, assignment, note = options.submission_path(args.path, args.assignment)
    if args.json:
        refuse_overwrite(args.json, "--json", reads=[options.hidden_seed(assignment, args.hidden_seed)[1] or None],
                         submissions=[args.path])
    options.check_matches(path, assignment)
    return _grade_and_print(path, assignment, args.hidden_seed, args, args.json, note)
