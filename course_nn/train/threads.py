"""How many intra-op threads torch gets for a training run (``--threads N`` overrides).

torch starts one intra-op thread per core. On the networks of this course that is a bad trade: a
step of the 2-64-64-2 spiral MLP is a few microseconds of arithmetic per layer, so splitting it
across threads buys nothing, and when the machine is busy the threads wait for each other at every
op. Measured on the course's 2-core machine while other jobs ran (load 1.2-2.4; median ms per SGD
step over 1 s, solutions' Functions; ``python scripts/measure_threads.py`` measures it again):

    model, batch               weights x batch   1 thread    2 threads
    2-64-64-2, 16 (spiral)     7.2e4             1.35 ms     32.1 ms
    784-10 logreg, 64          5.0e5             1.10 ms      4.7 ms
    784-256-256-10, 64         1.7e7             6.2 ms      58.0 ms

and, taking the fastest of ten steps (what a quiet machine gives): below about 1e7 two threads are
no faster (0.55 vs 0.56 ms for the spiral model), from 7e7 on they are (784-256-256-10 at batch
256: 4.6 vs 3.4 ms; 784-1024-1024-10 at 256: 33 vs 17 ms). But only on idle cores: at load 9 the
784-256-256-10 MLP at batch 512 took 330 ms per step with 2 threads (``course-nn bench``'s ddp
baseline) where 2 processes of 1 thread each took 24 ms. Hence one thread per WORK_PER_THREAD
multiply-adds of a step's forward (weights x examples per process), at least 1, at most the cores
that are idle now (this process's cores minus the 1-minute load average); with several processes
on one machine (``--nproc``) those are shared out first, so the ranks never oversubscribe them.
"""

from __future__ import annotations

import os

#: Multiply-adds of one forward step (weights x batch per process) per intra-op thread.
WORK_PER_THREAD = 3e7


def usable_cores() -> int:
    """Cores this process may run on (taskset/cgroup affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def load() -> float:
    """The 1-minute load average (0 where the OS does not report one)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def choose(weights: int, batch: int, cores: int | None = None, processes: int = 1,
           busy: float | None = None) -> int:
    """Intra-op threads for a model with ``weights`` weights trained on ``batch`` examples per step
    per process, when ``processes`` processes share ``cores`` cores on this machine and ``busy``
    of them are taken by other work (default: the usable cores and the load average now)."""
    cores = usable_cores() if cores is None else cores
    busy = load() if busy is None else busy
    idle = max(1, cores - int(busy))
    budget = max(1, idle // max(1, processes))
    wanted = int(weights * batch // WORK_PER_THREAD)
    return max(1, min(budget, wanted))
