"""Ctrl-C during training: the first one is a request to stop at the next step boundary.

Python raises KeyboardInterrupt wherever the main thread happens to be, and that can be inside
TensorBoard's writer queue (a ``queue.put`` cut between its lock and its notify leaves the writer
thread asleep; ``SummaryWriter.close`` then waits for it forever) or inside torch.save. So the
training loop asks :func:`check` after every step and at every epoch's end, where nothing is half
done; the handler only records the request. A second Ctrl-C still interrupts at once, for a step
that never ends (a student's hw2 code in a loop).

Only in the main thread of a single process: a rank of a distributed run has its own handler
(course_nn/train/distributed.py) and the launcher stops the ranks together.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_requested: list[int] = []


def _request(signum: int, frame) -> None:
    if _requested:  # the second Ctrl-C: stop now, wherever the loop is
        raise KeyboardInterrupt
    _requested.append(signum)


def check() -> None:
    """Raise KeyboardInterrupt here if Ctrl-C was pressed since the loop began (else nothing)."""
    if _requested:
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred_ctrl_c() -> Iterator[None]:
    """Inside the block, Ctrl-C waits for :func:`check`; outside it, Ctrl-C is what it was."""
    own = threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if not own:
        yield
        return
    _requested.clear()
    previous = signal.signal(signal.SIGINT, _request)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()
