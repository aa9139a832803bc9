"""Grade one submission: visible and hidden tests, partial credit, Gradescope's results.json.

The submission runs in a sandboxed child process (python -I, its own folder, scrubbed environment,
a time limit per Function, a memory cap, an unprivileged user when run as root); all scoring
happens in this process. results.json is always written, even when the submission crashes,
hangs or exits early.

Examples:
  course-nn grade submissions/alice/functions.py --assignment hw1 --json alice.json
  course-nn grade --gradescope              # inside Gradescope: /autograder/submission -> results
  course-nn grade mlp.py -a hw2 --json out.json --show-review

Hidden cases use the secret seed from --hidden FILE, $COURSE_NN_HIDDEN or solutions/<hw>/hidden.json.
Exit status: 0 whenever grading completed (whatever the score); 2 when the grader cannot run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.grading import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", nargs="?", help="the submission (file or folder)")
    options.add_assignment(parser, required=False)
    parser.add_argument("--json", type=options.output_file, metavar="OUT", help="write Gradescope's results.json here")
    parser.add_argument("--gradescope", action="store_true",
                        help="read /autograder/submission, write /autograder/results/results.json "
                             "($COURSE_NN_AUTOGRADER_ROOT replaces /autograder)")
    parser.add_argument("--hidden", metavar="FILE", help="hidden-case seed file (JSON {\"seed\": N})")
    parser.add_argument("--show-review", action="store_true",
                        help="print instructor-only review flags (suspicious code) in the summary")
    options.add_limits(parser)


def _gradescope_paths(args) -> tuple[str, str, str | None, str | None]:
    root = Path(os.environ.get("COURSE_NN_AUTOGRADER_ROOT", "/autograder"))
    assignment = args.assignment
    marker = root / "source" / "assignment.txt"
    if assignment is None and marker.is_file():
        assignment = marker.read_text().strip()
    hidden = args.hidden or (str(root / "source" / "hidden" / f"{assignment}.json") if assignment else None)
    return str(root / "submission"), str(root / "results" / "results.json"), assignment, hidden


def run(args: argparse.Namespace) -> int:
    from course_nn.grading import engine, report

    path, out, name, hidden = args.path, args.json, args.assignment, args.hidden
    if args.gradescope:
        path, out, name, hidden = _gradescope_paths(args)
    if not path:
        raise UsageError("give the submission PATH (or --gradescope inside Gradescope)")
    assignment = options.assignment_for(path, name)
    seed, seed_file = options.hidden_seed(assignment, hidden)
    result = engine.grade(path, assignment, seed=seed, timeout=args.timeout, memory_bytes=args.memory)
    if seed_file:
        result.notes.insert(0, f"hidden cases from {seed_file}")
    if out:
        report.write_results(result, out)
    print(report.table(result))
    detail = report.details(result, include_review=args.show_review)
    if detail:
        print("\n" + detail)
    for note in result.notes:
        print(f"note: {note}")
    print(f"\nscore: {result.score:.2f} / {assignment.total_points:g}  ({result.seconds:.1f} s)"
          + (f"  -> {out}" if out else ""))
    return 0
