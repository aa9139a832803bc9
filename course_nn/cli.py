"""The `course-nn` command. Each subcommand lives in the module that does the work.

Subcommand modules expose ``add_arguments(parser)`` and ``run(args) -> int`` and keep their
module-level imports light (torch is imported inside ``run``) so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from course_nn import __version__
from course_nn.errors import CourseError

# name -> (module, one-line help). The module's docstring becomes the subcommand's description.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("course_nn.train.cli", "train a network built from an implementation of the hw1 Functions"),
    "compare": ("course_nn.train.compare", "find where a student's gradients first differ from torch's"),
    "trace": ("course_nn.trace.cli", "draw backpropagation node by node: your gradients beside torch's"),
    "check": ("course_nn.grading.cli_check", "self-check a submission with the visible tests (for students)"),
    "grade": ("course_nn.grading.cli_grade", "grade one submission and write Gradescope's results.json"),
    "grade-batch": ("course_nn.grading.cli_batch", "grade a folder of submissions into a CSV gradebook"),
    "autograder": ("course_nn.grading.cli_autograder", "build the zip a Gradescope assignment takes"),
    "handout": ("course_nn.handout.cli", "generate, check and bundle the student handouts from solutions/"),
    "bench": ("course_nn.bench.cli", "benchmark hand-written Functions against torch's built-ins"),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the selected subcommand's module is imported (keeps --help instant)."""
    parser = argparse.ArgumentParser(
        prog="course-nn",
        description="course_nn: hand-written autograd Functions, an autograder, and a reference trainer.",
        epilog="Run 'course-nn COMMAND --help' for what each command does and its options.",
    )
    parser.add_argument("--version", action="version", version=f"course-nn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == selected:
            module = importlib.import_module(module_name)
            p.description = (module.__doc__ or help_text).strip()
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except CourseError as err:
        print(f"course-nn {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"course-nn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
