"""Data-parallel training on torch.distributed: what one process (a *rank*) of a multi-process run
needs, whether torchrun started it or ``course-nn train --nproc N`` (course_nn/train/launch.py).

Every rank holds the whole data set and the same network (built from the same seed), wrapped in
DistributedDataParallel: the forward, with the chosen Functions' ``.apply`` calls, runs on the
rank's share of the batch, and backward averages the gradients of all ranks before the SGD step.

The global batch of ``--batch-size`` B is split into equal shares of B / world, drawn by a
DistributedSampler: each epoch it shuffles the indices with the seed ``--seed + 2`` plus the epoch
number and gives rank r every world-th index, starting at r. Rank r's k-th share is then exactly
the r-th, (r+world)-th, ... element of the k-th batch of a single process with the same seed, so
the union of the shares is the same batch, and because the shares are equal the average of the
ranks' mean losses (what DDP's averaged gradient differentiates) is the mean loss of the whole
batch: a 2-process run follows the same loss curve as 1 process. B must be a multiple of world.
When the number of training examples is not a multiple of world either, the sampler pads the
epoch by repeating its first (world - remainder) examples so every rank takes the same number of
steps; the last batch then counts those few examples twice (none with the default sizes).

Failures: a rank whose setup failed tells the others (they stop with :class:`PeerStopped`); a rank
that fails later simply exits, and the launcher stops the rest (SIGTERM, handled like Ctrl-C).
"""

from __future__ import annotations

import atexit
import datetime
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from course_nn.errors import CourseError

T = TypeVar("T")

#: How long a collective waits for a rank that does not arrive (gloo's own default is 30 minutes).
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=5)


class PeerStopped(CourseError):
    """This rank stops because another rank failed; that rank's own error says why."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Ranks:
    """This process's place in the run; a single-process run is rank 0 of 1 with no process group."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def main(self) -> bool:
        """Rank 0 writes TensorBoard events, metrics.csv, curves.png and checkpoints."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def label(self) -> str:
        """'rank 1 of 2: ' in front of a distributed run's messages, '' otherwise."""
        return f"rank {self.rank} of {self.world}: " if self.active else ""

    def share(self, make: Callable[[], T]) -> T:
        """``make()`` on rank 0, its value sent to every rank; a CourseError there stops every rank
        (rank 0 with it, the others with PeerStopped and the same exit code)."""
        if not self.active:
            return make()
        import torch.distributed as dist

        box: list[Any] = [None]
        if self.main:
            try:
                box[0] = ("ok", make())
            except CourseError as err:
                box[0] = ("error", (str(err), err.exit_code))
                dist.broadcast_object_list(box, src=0)
                raise
        dist.broadcast_object_list(box, src=0)
        kind, value = box[0]
        if kind == "error":
            raise PeerStopped(f"rank 0 stopped: {value[0]}", value[1])
        return value

    def agree(self, err: CourseError | None) -> None:
        """Every rank says whether its setup worked; if one failed, every rank stops (the failing one
        with its own error, the rest with PeerStopped naming it)."""
        if not self.active:
            if err is not None:
                raise err
            return
        import torch.distributed as dist

        reports: list[Any] = [None] * self.world
        dist.all_gather_object(reports, None if err is None else (str(err), err.exit_code))
        if err is not None:
            raise err
        failed = next(((r, rep) for r, rep in enumerate(reports) if rep is not None), None)
        if failed is not None:
            rank, (line, code) = failed
            raise PeerStopped(f"rank {rank} failed: {line}", code)

    def total(self, values: list[float], device: torch.device) -> list[float]:
        """The sum of ``values`` over all ranks (every rank gets it)."""
        if not self.active:
            return list(values)
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return t.tolist()

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """DistributedDataParallel around ``model`` (the model itself in a single process)."""
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def sampler(self, n: int, seed: int):
        """The epoch's shuffled index order for this rank (``set_epoch`` before each epoch)."""
        from torch.utils.data import DistributedSampler

        return DistributedSampler(range(n), num_replicas=self.world, rank=self.rank, shuffle=True, seed=seed,
                                  drop_last=False)


def launched() -> bool:
    """Whether torchrun (or ``--nproc``) started this process as one rank of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def _stop_once(signum: int, frame) -> None:
    """SIGINT or SIGTERM in a rank: stop like Ctrl-C once (the checkpoint is kept); repeats are ignored
    so that the clean-up the first one started is not cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _exiting() -> None:
    """At interpreter exit there is nothing left to stop: a SIGTERM from the launcher (another rank
    failed) then raised KeyboardInterrupt inside whatever exit hook ran, and printed its traceback.
    Registered after torch's own exit hooks, so it runs before them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def join(device_name: str) -> tuple[Ranks, torch.device]:
    """Join the process group torchrun set up (env://): gloo on the CPU, nccl on CUDA, each rank on
    its own GPU. Returns this rank and its device. Without torchrun: rank 0 of 1, no group."""
    from course_nn.errors import UsageError
    from course_nn.train.config import resolve_device

    if not launched():
        return Ranks(), resolve_device(device_name)
    import torch.distributed as dist

    ranks = Ranks(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0")),
                  int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    device = resolve_device(device_name)
    if device.type == "cuda":
        if torch.cuda.device_count() < ranks.local_world:
            if device_name == "cuda":
                raise UsageError(f"--device cuda with {ranks.local_world} processes on this machine but "
                                 f"{torch.cuda.device_count()} GPU(s); one GPU per process, or --device cpu")
            device = torch.device("cpu")
        else:
            device = torch.device("cuda", ranks.local_rank)
            torch.cuda.set_device(device)
    signal.signal(signal.SIGTERM, _stop_once)
    signal.signal(signal.SIGINT, _stop_once)
    atexit.register(_exiting)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=COLLECTIVE_TIMEOUT,
                            **({"device_id": device} if device.type == "cuda" else {}))
    return ranks, device


def leave(ranks: Ranks) -> None:
    """Leave the process group (nothing to do in a single process)."""
    if ranks.active:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def is_collective_failure(err: BaseException) -> bool:
    """An error that says another rank went away (gloo/nccl), not what went wrong there."""
    import torch.distributed as dist

    if isinstance(err, getattr(dist, "DistError", ())):
        return True
    text = str(err)
    return any(k in text for k in ("Connection closed by peer", "Connection reset by peer", "gloo", "NCCL",
                                   "Broken pipe", "ProcessGroup"))
