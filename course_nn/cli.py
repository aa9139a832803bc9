"""The `course-nn` command. Each subcommand VERB lives in ``<package>/cli_<verb>.py`` beside the
package that does the work (train/cli_train.py, grading/cli_grade.py, ...).

Subcommand modules expose ``add_arguments(parser)`` and ``run(args) -> int`` and keep their
module-level imports light (torch is imported inside ``run``) so that ``--help`` stays fast. Values
are read by the shared parsers in course_nn/cli_types.py and closed sets come with ``choices=``
(course_nn/choices.py), so bad input fails in one line, exit 2, before torch is imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from course_nn import __version__
from course_nn.errors import CourseError

# name -> (module, one-line help). The module's docstring becomes the subcommand's description.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("course_nn.train.cli_train", "train a network built from an implementation of the hw1 Functions"),
    "compare": ("course_nn.train.cli_compare", "find where a student's gradients first differ from torch's"),
    "trace": ("course_nn.trace.cli_trace", "draw backpropagation node by node: your gradients beside torch's"),
    "check": ("course_nn.grading.cli_check", "self-check a submission with the visible tests (for students)"),
    "grade": ("course_nn.grading.cli_grade", "grade one submission and write Gradescope's results.json"),
    "grade-batch": ("course_nn.grading.cli_batch", "grade a folder of submissions into a CSV gradebook"),
    "autograder": ("course_nn.grading.cli_autograder", "build the zip a Gradescope assignment takes"),
    "handout": ("course_nn.handout.cli_handout", "generate, check and bundle the student handouts from solutions/"),
    "submit": ("course_nn.notebook.cli_submit", "write the file to upload from a notebook handout's graded cells"),
    "bench": ("course_nn.bench.cli_bench", "benchmark hand-written Functions against torch's built-ins"),
}


class BadArguments(Exception):
    """What argparse found wrong, already worded as one line for ``prog``."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


def _one_line(message: str) -> str:
    """argparse's message, reworded: the flag first, then what it got, then what to write instead."""
    m = re.fullmatch(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.S)
    if m is None:
        return message
    flag, rest = m.groups()
    choice = re.fullmatch(r"invalid choice: (.*) \(choose from (.*)\)", rest, re.S)
    if choice:  # "unknown task 'moons' (--task); choose one of spiral, xor, ..."
        choices = ", ".join(c.strip().strip("'\"") for c in choice.group(2).split(","))
        what = {"hw": "assignment"}.get(flag.lower(), flag.lstrip("-").lower().replace("-", " "))
        where = f" ({flag})" if flag.startswith("-") else ""
        return f"unknown {what} {choice.group(1)}{where}; choose one of {choices}"
    return f"{flag} {rest}" if rest.startswith(("'", '"')) else f"{flag}: {rest}"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (not the usage block) and reach main() as BadArguments."""

    def error(self, message: str):  # type: ignore[override]
        raise BadArguments(self.prog, f"{_one_line(message)} (see '{self.prog} --help')")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the selected subcommand's module is imported (keeps --help instant)."""
    parser = Parser(
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


def _stdout_closed() -> int:
    """stdout's reader went away (``course-nn grade ... | head``): end quietly, like a shell tool
    killed by SIGPIPE (141), and point stdout at /dev/null so the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass
    return 141


def main(argv: list[str] | None = None) -> int:
    """Run ``course-nn`` with ``argv``; returns the exit status (``--help`` and ``--version`` exit 0)."""
    as_program = argv is None  # the course-nn program itself, not a caller (a test) that goes on afterwards
    argv = sys.argv[1:] if argv is None else list(argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except BadArguments as err:
        print(f"{err.prog}: error: {err}", file=sys.stderr)
        return 2
    except SystemExit:  # --help / --version: their text may meet a closed pipe too (| head)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_closed()
        raise
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
        if as_program and getattr(args, "_exit_at_once", False):
            sys.stderr.flush()
            os._exit(code)  # the command wrote and closed all its outputs; skip the interpreter's teardown
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except CourseError as err:
        print(f"course-nn {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"course-nn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
