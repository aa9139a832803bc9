"""Where the course repository's folders are (solutions/, assignments/)."""

from __future__ import annotations

import os
from pathlib import Path

from course_nn.errors import UsageError


def _looks_like_root(path: Path) -> bool:
    return (path / "solutions").is_dir() or (path / "assignments").is_dir()


def repo_root(required: bool = True) -> Path | None:
    """The course repository: $COURSE_NN_ROOT, else the nearest folder up from the current one
    that holds solutions/ or assignments/, else the checkout this package was installed from."""
    env = os.environ.get("COURSE_NN_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_root(candidate):
            return candidate
    package_parent = Path(__file__).resolve().parents[1]
    if _looks_like_root(package_parent):
        return package_parent
    if required:
        raise UsageError(
            "cannot find the course repository (a folder with solutions/ or assignments/); "
            "run from inside your clone or set COURSE_NN_ROOT=/path/to/clone"
        )
    return None


def solutions_dir(required: bool = True) -> Path | None:
    root = repo_root(required)
    path = root / "solutions" if root else None
    if path is None or not path.is_dir():
        if required:
            raise UsageError(
                "no solutions/ folder found (it is instructor-only and not shipped to students); "
                "run from the instructors' clone or set COURSE_NN_ROOT"
            )
        return None
    return path


def assignments_dir() -> Path:
    root = repo_root(True)
    return root / "assignments"
