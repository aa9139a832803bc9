"""Checkpoints: written atomically (temp file in the same folder, then os.replace), so a crash or
Ctrl-C mid-write never leaves a half-written ``checkpoint.pt`` behind; Ctrl-C (and, in a rank of a
distributed run, the launcher's SIGTERM) waits until the write is complete."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Any

import torch

from course_nn.errors import UsageError
from course_nn.files import atomic_write

CHECKPOINT = "checkpoint.pt"
FORMAT = 1


@contextlib.contextmanager
def signals_held():
    """Hold Ctrl-C (and, in a rank, the launcher's SIGTERM) until the block ends: an interrupt inside
    torch.save would otherwise surface as torch's RuntimeError from the half-closed zip writer; the
    held signal goes to the handler it was meant for once the checkpoint is complete."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = [signal.SIGINT] + [signal.SIGTERM] * callable(signal.getsignal(signal.SIGTERM))
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.default_int_handler)
    if pending:
        handler = previous[pending[0]]
        if callable(handler):
            handler(pending[0], None)  # raises, as it would have during the write (KeyboardInterrupt)
        elif handler != signal.SIG_IGN:
            raise KeyboardInterrupt


def save(path: Path, state: dict[str, Any]) -> None:
    """torch.save ``state`` to ``path`` atomically, Ctrl-C held until it is written."""
    with signals_held():
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
