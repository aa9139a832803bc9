"""Checkpoints: written atomically (temp file in the same folder, then os.replace), so a crash or
Ctrl-C mid-write never leaves a half-written ``checkpoint.pt`` behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from course_nn.errors import UsageError

CHECKPOINT = "checkpoint.pt"
FORMAT = 1


def _atomic_write(path: Path, write) -> None:
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(path: Path, state: dict[str, Any]) -> None:
    """torch.save ``state`` to ``path`` atomically."""
    _atomic_write(Path(path), lambda f: torch.save({"format": FORMAT, **state}, f))


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    _atomic_write(Path(path), lambda f: f.write((json.dumps(data, indent=2) + "\n").encode()))


def load(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save`; UsageError (one line) if it is missing or not one."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise UsageError(f"no checkpoint at {path}; pass the checkpoint.pt inside a run folder (e.g. runs/NAME/checkpoint.pt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file
        raise UsageError(f"{path} is not a course-nn checkpoint ({type(err).__name__}: {err})".splitlines()[0]) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT or "model" not in state:
        raise UsageError(f"{path} is not a course-nn train checkpoint; pass the checkpoint.pt inside a run folder")
    state["path"] = str(path)
    return state
