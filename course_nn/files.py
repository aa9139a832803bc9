"""Files written for users (checkpoints, results.json, gradebooks, benchmark JSON) are written
atomically: a temp file in the same folder, flushed, then renamed over the target, so a crash or
Ctrl-C mid-write leaves the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write(f)`` on a binary temp file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path: str | Path, data: Any) -> None:
    """``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def write_or_fail(write: Callable[[], Any], path: str | Path) -> Any:
    """``write()``'s result; an OSError (disk full, the folder removed meanwhile) becomes one line, exit 1."""
    from course_nn.errors import CourseError

    try:
        return write()
    except OSError as err:
        raise CourseError(f"cannot write {path}: {err.strerror or err}") from None


# ----------------------------------------------------------------------------- output locations
# Every command checks where it will write before it starts working, so that a typo in a path
# costs a second, not a batch of grading or a training run.


def _probe(folder: Path) -> str | None:
    """None when a file can be created in ``folder``, else why not (a real write: permissions,
    read-only mounts and root's special cases all show up)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".course-nn-probe-")
    except OSError as err:
        return err.strerror or str(err)
    os.close(fd)
    os.unlink(tmp)
    return None


def check_output_file(path: str | Path, flag: str, example: str = "out.json") -> Path:
    """``path`` as a file this process can write; UsageError (one line) otherwise.

    The folder must already exist: a typo must not create folders from ``/`` down. ``flag`` names
    the option in the message; argparse ``type=`` parsers pass "" (argparse names the flag itself).
    """
    from course_nn.errors import UsageError

    p = Path(path)
    what = f"{flag} {path}" if flag else repr(str(path))
    if p.is_dir():
        raise UsageError(f"{what} is a folder; give a file path such as {p / example}")
    parent = p.parent
    if not parent.exists():
        raise UsageError(f"{what}: the folder {parent} does not exist; create it first "
                         f"(mkdir -p {parent}) or give a path in an existing folder")
    if not parent.is_dir():
        raise UsageError(f"{what}: {parent} is a file, not a folder; give a path in a folder")
    why = _probe(parent)
    if why is not None:
        raise UsageError(f"{what}: cannot write in {parent} ({why}); pick a folder you can write to")
    return p


def check_output_dir(path: str | Path, flag: str) -> Path:
    """``path`` as a folder to write into, created (one level only) when missing; UsageError otherwise."""
    from course_nn.errors import UsageError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {path} is a file; give a folder (it is created if missing)")
    if not p.exists():
        if not p.parent.is_dir():
            raise UsageError(f"{flag} {path}: the folder {p.parent} does not exist; create it first "
                             f"(mkdir -p {p.parent}) or give a folder inside an existing one")
        try:
            p.mkdir()
        except OSError as err:
            raise UsageError(f"{flag} {path}: cannot create it ({err.strerror or err}); "
                             "pick a folder you can write to") from None
    why = _probe(p)
    if why is not None:
        raise UsageError(f"{flag} {path}: cannot write in it ({why}); pick a folder you can write to")
    return p


# ----------------------------------------------------------------------------- inputs are never outputs
# No command writes over a file it reads, a submission, or anything inside a submission folder: every
# output location goes through refuse_overwrite before any work starts.


def _within(path: Path, other: Path) -> bool:
    """``path`` is ``other`` or lies inside it (both resolved: links and .. cannot hide it)."""
    return path == other or other in path.parents


def refuse_overwrite(output: str | Path, flag: str, reads: Iterable[str | Path | None] = (),
                     submissions: Iterable[str | Path] = (), shown: str = "") -> None:
    """UsageError (one line) when writing ``output`` would replace a file (or land in a folder) this
    command reads (``reads``), or replace a submission or land inside a submission folder
    (``submissions``: student files and folders). ``flag`` names the option in the message, or
    ``shown`` says what the output is when it was derived from the option."""
    from course_nn.errors import UsageError

    out = Path(output).resolve()
    what = shown or (f"{flag} {output}" if flag else str(output))
    for sub in submissions:
        if _within(out, Path(sub).resolve()):
            kind = "is the submission" if out == Path(sub).resolve() else "is inside the submission folder"
            raise UsageError(f"{what} {kind} {sub}; student work is never written over: give "
                             f"{flag + ' ' if flag else ''}a path outside it")
    for read in reads:
        if read is None:
            continue
        src = Path(read).resolve()
        if _within(out, src):
            kind = "is" if out == src else "is inside"
            raise UsageError(f"{what} {kind} {read}, which this command reads; write the output somewhere else")
