"""Checkpoints: written atomically (temp file in the same folder, then os.replace), so a crash or
Ctrl-C mid-write never leaves a half-written ``checkpoint.pt`` behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from course_nn.errors import UsageError
from course_nn.files import atomic_write

CHECKPOINT = "checkpoint.pt"
FORMAT = 1


def save(path: Path, state: dict[str, Any]) -> None:
    """torch.save ``state`` to ``path`` atomically."""
    atomic_write(path, lambda f: torch.save({"format": FORMAT, **state}, f))


def load(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save`; UsageError (one line) if it is missing or not one."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise UsageError(f"no checkpoint at {path}; pass the checkpoint.pt inside a run folder (e.g. runs/NAME/checkpoint.pt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file; torch's own advice (weights_only=False) does not apply
        raise UsageError(f"{path} is not a checkpoint written by course-nn train (it cannot be read as one); "
                         "pass the checkpoint.pt inside a run folder, e.g. runs/NAME/checkpoint.pt") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or "model" not in state:
        raise UsageError(f"{path} is not a course-nn train checkpoint; pass the checkpoint.pt inside a run folder")
    state["path"] = str(path)
    return state
