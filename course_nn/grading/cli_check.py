"""Self-check a submission with the visible tests, exactly as the autograder would run them.

What it prints by default: every line of the file that breaks a rule of graded code (all of them at
once, with what to write instead), then one row per Function (hw1) or task (hw2) and check, with PASS, part
(some of the check's points) or FAIL and the first reason; a task whose every check failed for one
reason (say, the class is missing) is one row. Then the points these visible checks earn per task
and in total (x / y), and a count of passed and failed checks. With --details it also prints every
failing line of every check, grouped per task. Hidden tests are not run: passing everything here is
necessary, not sufficient, for full marks.

It is your own check, so it never refuses to run: your file runs in a child process with every
isolation layer this machine allows, and the last line says which ("how it ran: ..."). As root with
no unprivileged user able to run this Python (Colab, a Docker image), the child runs as root;
'course-nn grade' and 'grade-batch', which run other people's code, refuse that.

Examples:
  course-nn check functions.py            # hw1, guessed from the file name
  course-nn check mlp.py --details        # hw2, every failing line
  course-nn check path/to/folder -a hw1   # the one functions.py inside a folder

Exit status: 0 when every visible check passes, 1 when some fail, 2 for a bad PATH or --json.
"""

from __future__ import annotations

import argparse

from course_nn import cli_types
from course_nn.grading import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="your functions.py / mlp.py, or a folder holding it")
    cli_types.add_assignment(parser, guessed=True)
    parser.add_argument("--details", action="store_true",
                        help="also print every failing line of every check (default: the table shows the first)")
    parser.add_argument("--json", metavar="OUT", type=cli_types.output_file("results.json"),
                        help="also write the visible-test results.json here (its folder must exist)")
    options.add_limits(parser)


def run(args: argparse.Namespace) -> int:
    from course_nn.files import refuse_overwrite
    from course_nn.grading import engine, report, status

    path, assignment, note = options.submission_path(args.path, args.assignment)
    if args.json:
        refuse_overwrite(args.json, "--json", submissions=[args.path])
    options.check_matches(path, assignment)
    result = engine.grade(path, assignment, visible_only=True, timeout=args.timeout, memory_bytes=args.memory,
                          student_check=True)
    state = status.of_result(result)
    for line in filter(None, [note, *result.source_notes]):
        print(f"note: {line}\n")
    if not state.ok:
        print(f"{state.name}: {state.reason}\n")
    if result.gate:  # every line the gate refused or charged, at once: one round of fixes
        print(f"The autograder's rules for graded code flag {len(result.gate)} line(s) of your file "
              "(README.md, \"What your file may use\"); fix them all:")
        print("\n".join(f"  {line}" for line in result.gate) + "\n")
    print(report.table(result))
    print(report.LEGEND)
    failing = [o for o in result.outcomes if not o.passed]
    if failing:
        print()
        print(report.details(result) if args.details else "Run with --details to see every failing line.")
    print(f"\npoints on these visible checks: {report.points_line(result)}")
    print("each task's points are split over its checks: "
          + ", ".join(f"{c.key} {c.weight:.0%}" for c in assignment.categories))
    print(f"\n{len(result.outcomes) - len(failing)} passed, {len(failing)} failed "
          f"(visible tests of {assignment.name}; hidden tests run when you submit)")
    how = next((n.removeprefix("containment: ") for n in result.notes if n.startswith("containment: ")), "")
    if how:
        print(f"how it ran: {how}")
    if args.json:
        options.write_or_fail(lambda: report.write_results(result, args.json, [note] if note else None), args.json)
    return 1 if failing else 0
