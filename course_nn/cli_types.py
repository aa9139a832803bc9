"""argparse ``type=`` parsers every command shares, so one kind of value is read one way everywhere.

Each parser turns the text into a value or raises ``argparse.ArgumentTypeError`` whose message
starts with the text it got and says what to write instead; course_nn.cli prints it as one line
after the flag (``--memory 'lots' is not a size; write e.g. 2G, ...``) and exits 2. Everything
here is torch-free: a bad value fails before any heavy import.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from course_nn.choices import parse_hidden

ArgumentTypeError = argparse.ArgumentTypeError


def positive_int(text: str) -> int:
    """A whole number of at least 1 (epochs, batch sizes, jobs, repeats)."""
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number; give one of at least 1, e.g. 4") from None
    if value < 1:
        raise ArgumentTypeError(f"{text!r} is below 1; give a whole number of at least 1, e.g. 4")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number; give 0 or more, e.g. 0") from None
    if value < 0:
        raise ArgumentTypeError(f"{text!r} is negative; give 0 or more, e.g. 0")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0 (a learning rate)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ArgumentTypeError(f"{text!r} is not a number above 0; give e.g. 0.1")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (tolerances)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise ArgumentTypeError(f"{text!r} is not a number of 0 or more; give e.g. 1e-6")
    return value


def positive_seconds(text: str) -> float:
    """A time limit in seconds, above 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ArgumentTypeError(f"{text!r} is not a time limit; give seconds above 0, e.g. 30")
    return value


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)i?[bB]?\s*")


def memory_size(text: str) -> int:
    """A memory size in bytes: 2G, 512M, 1.5GiB, 1024; 0 means no cap."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise ArgumentTypeError(f"{text!r} is not a size; write e.g. 2G, 512M or 0 for no cap")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def hidden_sizes(text: str) -> str:
    """Hidden layer sizes as given ('64,64'), once they are known to be positive whole numbers.

    The text is kept (not the list): a checkpoint records it and a resumed run compares it.
    """
    try:
        parse_hidden(text)
    except ValueError as err:
        raise ArgumentTypeError(f"{text!r}: {err}; give positive layer sizes separated by commas, e.g. 64,64 "
                                "(for no hidden layer use --model logreg)") from None
    return text


def batch_sizes(text: str) -> tuple[int, ...]:
    """Comma-separated positive whole numbers, e.g. 1,128,1024."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(b < 1 for b in sizes):
        raise ArgumentTypeError(f"{text!r} is not a list of batch sizes; give positive whole numbers "
                                "separated by commas, e.g. 1,128,1024")
    return sizes


def run_id(text: str) -> str:
    """A grading's run id, as the instructor notes print it (hex digits)."""
    if not re.fullmatch(r"[0-9a-f]{1,64}", text.strip()):
        raise ArgumentTypeError(f"{text!r} is not a run id; copy it from a result's notes "
                                "('run id 3f9c...'), e.g. --replay 3f9c2a7d41b0e855")
    return text.strip()


def output_file(example: str, suffix: str | None = None) -> Callable[[str], Path]:
    """A parser for a file this command will write, checked before any work: its folder exists and
    is writable, the path is not a folder, and it ends in ``suffix`` when one is given."""

    def parse(text: str) -> Path:
        from course_nn.errors import UsageError
        from course_nn.files import check_output_file

        path = Path(text)
        if suffix is not None and path.suffix != suffix:
            raise ArgumentTypeError(f"{text!r} does not end in {suffix}; name the file like {example}")
        try:
            return check_output_file(path, "", example)
        except UsageError as err:
            raise ArgumentTypeError(str(err)) from None

    return parse


# ----------------------------------------------------------------------------- shared flags


class DeprecatedAlias(argparse.Action):
    """An old spelling that still works for one release: it stores into the new flag's ``dest``,
    says on stderr (one line) what to write instead, and is left out of --help."""

    def __init__(self, option_strings: list[str], dest: str, instead: str, **kwargs) -> None:
        kwargs["help"] = argparse.SUPPRESS
        super().__init__(option_strings, dest, **kwargs)
        self.instead = instead

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if values is None:  # an optional positional that was not given
            return
        import sys

        old = option_string or f"the assignment as a positional argument ({values})"
        print(f"{parser.prog}: note: {old} is deprecated and goes away in the next release; "
              f"write {self.instead.format(value=values)}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_assignment(parser: argparse.ArgumentParser, guessed: bool, legacy_positional: bool = False) -> None:
    """``--assignment/-a HW``, the same flag in every command that needs an assignment.

    ``guessed``: the command guesses it from the submission file when the flag is left out.
    ``legacy_positional``: also accept the older ``build hw1`` spelling (deprecated, hidden from --help).
    """
    from course_nn import registry

    how = "default: guessed from the file's name or what it defines" if guessed else "required"
    # required by argparse unless the deprecated positional may stand in for it (then assignment_given checks)
    parser.add_argument("--assignment", "-a", choices=registry.ASSIGNMENTS, metavar="HW",
                        required=not guessed and not legacy_positional,
                        help=f"which assignment: {', '.join(registry.ASSIGNMENTS)} ({how})")
    if legacy_positional:
        parser.add_argument("legacy_assignment", nargs="?", choices=registry.ASSIGNMENTS, action=DeprecatedAlias,
                            instead="--assignment {value}", metavar="HW")


def assignment_given(args: argparse.Namespace) -> str:
    """The assignment of a command that cannot guess it: --assignment, or the deprecated positional."""
    from course_nn.errors import UsageError

    legacy = getattr(args, "legacy_assignment", None)
    if args.assignment and legacy and args.assignment != legacy:
        raise UsageError(f"two assignments given ({legacy} and --assignment {args.assignment}); keep --assignment only")
    name = args.assignment or legacy
    if name is None:
        from course_nn import registry

        raise UsageError(f"which assignment? add --assignment {registry.ASSIGNMENTS[0]} "
                         f"(one of: {', '.join(registry.ASSIGNMENTS)})")
    return name


def exit_at_once(parser: argparse.ArgumentParser) -> None:
    """The command writes and closes every output before it returns, so the course-nn program may end
    without the interpreter's teardown of torch (0.3-0.5 s, longer than grading two students)."""
    parser.set_defaults(_exit_at_once=True)
