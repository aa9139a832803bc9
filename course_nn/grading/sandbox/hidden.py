"""What a child must never read, and, without namespaces, the check that it cannot.

With namespaces none of it is in the child's world (its root is built from an allow-list, and a
secret inside an allowed folder is covered). Without them (container mode) the child is a uid of
its own that reads whatever the permissions let every user read, so a root grader refuses to
grade, in one line with the fix, when:

- the course's secrets — the solutions, the repository's history (.git keeps every version of
  solutions/), the hidden-case seed ($COURSE_NN_HIDDEN, Gradescope's source/hidden) — are
  readable by other users: these must be closed *by permission* (a git clone is world-readable
  by default; ``autograder build`` ships the seed 0600);
- anything else the child must not read (a batch's class folder, results and gradebook, a seed
  given with --hidden-seed) is readable by other users and Landlock does not shut it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from course_nn.errors import UsageError


def _autograder() -> Path:
    return Path(os.environ.get("COURSE_NN_AUTOGRADER_ROOT", "/autograder"))


def _existing(found: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in found:
        p = p.resolve() if p.exists() else p
        if p.exists() and p not in out:
            out.append(p)
    return out


def _git_dirs(root: Path) -> list[Path]:
    """The repository's history: .git, or for a worktree (.git is a file naming its gitdir) that
    gitdir and the common folder that holds the objects."""
    dot = root / ".git"
    if not dot.is_file():
        return [dot]
    try:
        gitdir = Path(dot.read_text().split("gitdir:", 1)[1].strip())
        gitdir = gitdir if gitdir.is_absolute() else root / gitdir
        common = (gitdir / "commondir").read_text().strip() if (gitdir / "commondir").is_file() else ""
    except (OSError, IndexError):
        return [dot]
    return [gitdir] + ([(gitdir / common).resolve()] if common else [])


def course_secrets() -> list[Path]:
    """What must be closed to other users by permission: solutions/, the history, the hidden seeds."""
    from course_nn import paths

    root = paths.repo_root(required=False)
    found = [root / "solutions", *_git_dirs(root)] if root is not None else []
    if os.environ.get("COURSE_NN_HIDDEN"):
        found.append(Path(os.environ["COURSE_NN_HIDDEN"]))
    found.append(_autograder() / "source" / "hidden")
    return _existing(found)


def secret_paths(extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """What a child must never read: the course's secrets and tests/, the grader's own source,
    Gradescope's source/results/submission folders, and ``extra``."""
    from course_nn import paths

    found = [Path(__file__).resolve().parents[2]]  # the course_nn package (grader source)
    root = paths.repo_root(required=False)
    if root is not None:
        found += [root / "tests", root / "course_nn"]
    ag = _autograder()
    found += [ag / "source", ag / "results", ag / "submission", ag / "submission_metadata.json"]
    return _existing([*course_secrets(), *found, *(Path(p) for p in extra)])


def open_to_others(path: Path) -> bool:
    """Could a uid that is neither the owner nor in the group read something at ``path``? (Every
    folder above must let it pass; a folder counts when any file below is readable.)"""
    path = path.resolve()
    try:
        if not all(os.stat(parent).st_mode & 0o001 for parent in path.parents):
            return False
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISDIR(mode):
        return bool(mode & 0o004)
    if not mode & 0o001:
        return False
    for folder, dirs, files in os.walk(path):
        for name in files:
            try:
                if os.stat(os.path.join(folder, name)).st_mode & 0o004:
                    return True
            except OSError:
                continue
        dirs[:] = [d for d in dirs if _passable(os.path.join(folder, d))]
    return False


def _passable(path: str) -> bool:
    try:
        return bool(os.lstat(path).st_mode & 0o001)
    except OSError:
        return False


def _under(path: Path, roots) -> bool:
    return any(path == Path(r) or Path(r) in path.parents for r in roots)


def refuse_open(c, extra: list[Path] | tuple[Path, ...], allowed: tuple[str, ...]) -> None:
    """Container mode as root: UsageError (one line, with the fix) when a child could read a course
    secret by permission, or another path it must not read that Landlock does not shut."""
    if c.namespaces or not c.leases or not c.mode:  # (no mode: no child will run at all)
        return
    secrets = course_secrets()
    others = [p for p in _existing([Path(p) for p in extra]) if p not in secrets]
    shut_by_landlock = [p for p in others if c.landlock and not _under(p, allowed)]
    open_ = [p for p in secrets if open_to_others(p)]
    open_ += [p for p in others if p not in shut_by_landlock and open_to_others(p)]
    if open_:
        listed = " ".join(str(p) for p in open_)
        raise UsageError(f"no namespaces here (container mode): student code runs as its own uid, which could "
                         f"read {listed} (readable by every user, as a git clone is); close "
                         f"{'it' if len(open_) == 1 else 'them'} before grading: chmod -R o-rwx {listed}")
