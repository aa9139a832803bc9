"""Self-check a submission with the visible tests, exactly as the autograder would run them.

Prints a table (function, check, PASS/FAIL, reason) and then every failure in full. Hidden tests
are not run; passing everything here is necessary, not sufficient, for full marks.

Examples:
  course-nn check functions.py            # hw1, guessed from the file name
  course-nn check mlp.py --details        # hw2, every failing line
  course-nn check path/to/folder -a hw1

Exit status: 0 when every visible check passes, 1 when some fail, 2 for a bad PATH.
"""

from __future__ import annotations

import argparse

from course_nn.grading import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="your functions.py / mlp.py, or a folder holding it")
    options.add_assignment(parser, required=False)
    parser.add_argument("--details", action="store_true", help="print every failure, not just the first per check")
    parser.add_argument("--json", type=options.output_file, metavar="OUT", help="also write the visible-test results.json here")
    options.add_limits(parser)


def run(args: argparse.Namespace) -> int:
    from course_nn.grading import engine, report

    assignment = options.assignment_for(args.path, args.assignment)
    result = engine.grade(args.path, assignment, visible_only=True, timeout=args.timeout, memory_bytes=args.memory)
    print(report.table(result))
    failing = [o for o in result.outcomes if not o.passed]
    if failing:
        print()
        print(report.details(result) if args.details else
              "Run with --details to see every failing line.")
    print("\npoints per task: " + ", ".join(f"{t.name} {t.points:g}" for t in assignment.tasks)
          + f" (total {assignment.total_points:g}); each task's points are split over its checks: "
          + ", ".join(f"{c.key} {c.weight:.0%}" for c in assignment.categories))
    print(f"\n{len(result.outcomes) - len(failing)} passed, {len(failing)} failed "
          f"(visible tests of {assignment.name}; hidden tests run when you submit)")
    if args.json:
        report.write_results(result, args.json)
    return 1 if failing else 0
