"""``course-nn train --nproc N``: start N ranks on this machine through torchrun's own machinery
(torch.distributed.launcher's elastic_launch: the agent torchrun runs), and report their end in
one line.

The rendezvous is torchrun's static TCP store, except that it listens on 127.0.0.1 only (a socket
bound there first, on a free port) and gloo is told to use the loopback interface: nothing of a
single-machine run is reachable from outside. Each rank runs :func:`worker`, which trains through
course_nn.train.trainer.train; rank 0's summary comes back as the launcher's result.

When a rank fails (a Function raises, the loss diverges, Ctrl-C) it writes one small JSON record
-- its rank, its one-line message, its exit code -- into a temporary folder and exits; the agent
then stops every other rank (SIGTERM, which a rank handles like Ctrl-C: TensorBoard flushed, the
checkpoint of the last finished epoch kept, a checkpoint being written finished first) and the
launcher prints the record of the rank that failed first: which rank, and what went wrong there.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import socket
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from course_nn.errors import CourseError
from course_nn.train.config import TrainConfig

BACKEND = "course-nn-loopback"  # the rendezvous handler registered below
SHUTDOWN_SECONDS = 30  # how long the agent waits for stopped ranks before SIGKILL


# ----------------------------------------------------------------------------- the ranks


def _record(folder: str, rank: int, err: BaseException, code: int, secondary: bool) -> None:
    from course_nn.files import write_json

    line = " ".join(str(err).split()) or type(err).__name__
    write_json(Path(folder) / f"rank{rank}.json", {"rank": rank, "line": line, "code": code,
                                                  "secondary": secondary, "time": time.time()})


def worker(cfg: TrainConfig, folder: str) -> dict[str, Any] | None:
    """One rank: train, return rank 0's summary; on failure record why and exit without a traceback."""
    from course_nn.train import distributed
    from course_nn.train.trainer import Interrupted, train

    rank = int(os.environ.get("RANK", "0"))
    try:
        summary = train(cfg)
        return summary or None
    except BaseException as err:  # noqa: B036 - every way a rank can end must reach the launcher as one record
        if isinstance(err, CourseError):
            code, secondary = err.exit_code, isinstance(err, distributed.PeerStopped)
        elif isinstance(err, KeyboardInterrupt):
            err, code, secondary = Interrupted(f"rank {rank}: interrupted"), 130, False
        else:
            code, secondary = 1, distributed.is_collective_failure(err)
            err = CourseError(f"rank {rank}: {type(err).__name__}: {err}")
        with contextlib.suppress(Exception):
            _record(folder, rank, err, code, secondary)
        # SystemExit passes torch's process wrappers without a traceback (they print one for an
        # Exception) and still runs multiprocessing's finalizers (os._exit would leak tqdm's semaphores)
        raise SystemExit(code) from None


# ----------------------------------------------------------------------------- the rendezvous


def _loopback_handler(params):
    """torchrun's static rendezvous with its TCP store listening on 127.0.0.1 only."""
    import datetime

    from torch.distributed import TCPStore
    from torch.distributed.elastic.rendezvous.static_tcp_rendezvous import StaticTCPRendezvous

    class Loopback(StaticTCPRendezvous):
        def get_backend(self) -> str:
            return BACKEND

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, chosen now
    sock.listen()
    port = sock.getsockname()[1]
    timeout = int(params.config.get("timeout", 600))
    handler = Loopback("127.0.0.1", port, 0, 1, params.run_id, timeout)
    # the store adopts the bound socket instead of binding its own on every interface
    handler._store = TCPStore("127.0.0.1", port, 1, True, datetime.timedelta(seconds=timeout), multi_tenant=True,
                              master_listen_fd=sock.detach())
    return handler


def _loopback_interface() -> str:
    names = [name for _, name in socket.if_nameindex()]
    return next((n for n in ("lo", "lo0") if n in names), names[0] if names else "lo")


@contextlib.contextmanager
def _launcher_state():
    """Environment, signal handlers and torch's elastic loggers as the launch needs them, restored after."""
    lo = _loopback_interface()
    env = {"GLOO_SOCKET_IFNAME": lo, "NCCL_SOCKET_IFNAME": lo, "MASTER_ADDR": "127.0.0.1"}
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    handled = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
    saved_signals = {s: signal.getsignal(s) for s in handled}
    # torch's warnings ("closing signal SIGTERM", "Received 2 death signal") are not the user's business;
    # its elastic loggers set their own levels, so logging is switched off for the launch as a whole
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        for s, handler in saved_signals.items():
            signal.signal(s, handler)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ----------------------------------------------------------------------------- the launcher


def _read_records(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("rank*.json")):
        with contextlib.suppress(OSError, ValueError):
            out.append(json.loads(path.read_text()))
    return out


def _root_cause(records: list[dict], interrupted: bool) -> dict | None:
    """The record that says why the run stopped: the first rank that failed on its own; for Ctrl-C
    rank 0's (it names the checkpoint); a rank that only saw another go away comes last."""
    primary = sorted((r for r in records if not r.get("secondary")), key=lambda r: r.get("time", 0))
    if interrupted or (primary and all(r.get("code") == 130 for r in primary)):
        stopped = [r for r in primary if r.get("code") == 130]
        return next((r for r in stopped if r.get("rank") == 0), stopped[0] if stopped else None)
    failed = [r for r in primary if r.get("code") != 130] or primary
    if failed:
        return failed[0]
    rest = sorted(records, key=lambda r: r.get("time", 0))
    return rest[0] if rest else None


def _failure_line(err) -> str:
    """torch's own account of a rank that left no record (killed by a signal, out of memory)."""
    with contextlib.suppress(Exception):
        rank, failure = err.get_first_failure()
        if failure.signal_name() not in ("", "<N/A>", None):
            return f"rank {rank} was killed by {failure.signal_name()} (out of memory, or killed from outside)"
        return f"rank {rank} exited with code {failure.exitcode}"
    return f"a process of the run failed: {err}"


def run_ranks(nproc: int, fn, args: tuple, folder: Path) -> dict[int, Any]:
    """``fn(*args)`` in ``nproc`` fresh processes joined by the loopback rendezvous (torch's elastic
    agent, no restarts); returns each rank's return value. Raises torch's ChildFailedError when a
    rank fails and SignalException on Ctrl-C; ``folder`` takes the agent's small files."""
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.rendezvous import rendezvous_handler_registry
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    rendezvous_handler_registry.register(BACKEND, _loopback_handler)  # a second call with it is a no-op
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex,
                          rdzv_backend=BACKEND, rdzv_endpoint="127.0.0.1", max_restarts=0,
                          monitor_interval=0.1, start_method="spawn", shutdown_timeout=SHUTDOWN_SECONDS,
                          logs_specs=DefaultLogsSpecs(log_dir=str(folder / "logs")))
    with _launcher_state():
        return elastic_launch(config, fn)(*args)


def launch(cfg: TrainConfig, nproc: int) -> dict[str, Any]:
    """Train with ``nproc`` ranks on this machine; returns rank 0's summary or raises one CourseError."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    from course_nn.train.trainer import Interrupted

    with tempfile.TemporaryDirectory(prefix="course-nn-ranks-") as tmp:
        folder = Path(tmp)
        interrupted, fallback = False, ""
        try:
            return run_ranks(nproc, worker, (replace(cfg), str(folder)), folder).get(0) or {}
        except ChildFailedError as err:
            fallback = _failure_line(err)
        except (SignalException, KeyboardInterrupt):
            interrupted = True
        # the failed launch's frames hold the agent and its queues: free them now, or the interpreter's
        # exit finds their semaphores unreleased and multiprocessing warns about leaks
        gc.collect()
        record = _root_cause(_read_records(folder), interrupted)
    if record is None:
        if interrupted:
            raise Interrupted("interrupted before training started")
        raise CourseError(fallback + "; every other process was stopped")
    line = record["line"]
    if not line.startswith(f"rank {record['rank']}"):
        line = f"rank {record['rank']} of {nproc}: {line}"
    error = Interrupted(line) if record["code"] == 130 else CourseError(line + "; every other process was stopped")
    error.exit_code = int(record["code"])
    raise error
