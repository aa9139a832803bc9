"""How the benchmark measures: step time (alternated A/B pairs), bytes saved for backward, aten ops, peak memory.

Step time. After warm-up, each pair runs ``inner`` steps of model A then ``inner`` steps of model B, timed with
``time.perf_counter`` (with ``torch.cuda.synchronize`` before each reading on CUDA). The reported ratio is the
median over pairs of t_A / t_B: alternating puts both sides under the same machine load, and the median
ignores the pair a neighbour's job happened to land on.

Saved bytes. ``torch.autograd.graph.saved_tensors_hooks`` sees every tensor autograd keeps for backward, from
torch's own ops and from ``ctx.save_for_backward`` alike. Several saved tensors are often views of one buffer
(ReLU's output is saved by ReLU and again as the next Linear's input), so the count is per distinct storage:
sum over storages s of nbytes(s), each storage once. Parameters the step saves (the weights) count too, on
both sides alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

Step = Callable[[], object]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class PairTiming:
    """Result of :func:`time_pairs`: seconds per step of each side (medians) and the median per-pair ratio a/b."""

    a_seconds: float
    b_seconds: float
    ratio: float
    ratios: list[float]
    inner: int
    noise: float = 1.0  # max over sides of median/min block time: ~1.0 on a quiet machine



def _time_block(step: Step, inner: int, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(inner):
        step()
    _sync(device)
    return time.perf_counter() - start


def time_pairs(
    step_a: Step,
    step_b: Step,
    device: torch.device,
    *,
    pairs: int = 21,
    warmup: int = 5,
    block_seconds: float = 0.05,
    max_inner: int = 1000,
) -> PairTiming:
    """Time two step functions alternately (A, B, A, B, ...) and return the median per-pair time ratio A/B.

    ``inner`` (steps per timed block) is chosen after warm-up so one block of the slower side lasts about
    ``block_seconds``; both sides use the same ``inner``. Garbage collection is paused while timing so a
    collection triggered by one side is not billed to it.
    """
    for _ in range(warmup):
        step_a()
        step_b()
    probe = max(_time_block(step_a, 1, device), _time_block(step_b, 1, device), 1e-7)
    inner = int(min(max_inner, max(1, round(block_seconds / probe))))
    a_times: list[float] = []
    b_times: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(pairs):
            a_times.append(_time_block(step_a, inner, device) / inner)
            b_times.append(_time_block(step_b, inner, device) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    ratios = [a / b for a, b in zip(a_times, b_times)]
    noise = max(statistics.median(a_times) / min(a_times), statistics.median(b_times) / min(b_times))
    return PairTiming(
        statistics.median(a_times), statistics.median(b_times), statistics.median(ratios), ratios, inner, noise
    )


def _storage_key(t: torch.Tensor) -> tuple[str, int | None, int, int]:
    storage = t.untyped_storage()
    # data_ptr names the buffer; an empty storage has ptr 0, so nbytes keeps distinct empties apart (all count 0)
    return (t.device.type, t.device.index, storage.data_ptr(), storage.nbytes())


@dataclass
class SavedBytes:
    """What one step saved for backward: bytes over distinct storages, number of storages and of saved tensors."""

    nbytes: int
    storages: int
    tensors: int


def count_saved_bytes(fn: Callable[[], object]) -> SavedBytes:
    """Run ``fn`` (typically a forward that builds a graph) and count what autograd saved, each storage once.

    The pack hook returns the tensor itself, so every saved storage stays alive until the graph is freed
    and no address can be reused by another buffer while counting.
    """
    seen: dict[tuple[str, int | None, int, int], int] = {}
    tensors = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal tensors
        tensors += 1
        key = _storage_key(t)
        seen.setdefault(key, t.untyped_storage().nbytes())
        return t

    def unpack(t: torch.Tensor) -> torch.Tensor:
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = fn()
    del out  # the graph (and the saved tensors) go with it
    return SavedBytes(sum(seen.values()), len(seen), tensors)


def count_aten_ops(fn: Callable[[], object]) -> int | None:
    """How many aten operators ``fn`` dispatches (forward, backward and optimiser), or None if unsupported.

    At batch 1 the arithmetic is tiny, so the step time is roughly (ops per step) x (fixed cost per op);
    this count explains most of the batch-1 gap. Uses TorchDispatchMode, a semi-private torch API.
    """
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError:
        return None

    class _Counter(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's signature
            self.count += 1
            return func(*args, **(kwargs or {}))

    try:
        with _Counter() as counter:
            fn()
    except Exception:  # counting is a diagnostic: never let it stop the benchmark
        return None
    return counter.count


def peak_step_bytes(step: Step, device: torch.device) -> int | None:
    """CUDA only: bytes the step allocates above what was allocated before it (max_memory_allocated peak)."""
    if device.type != "cuda":
        return None
    _sync(device)
    gc.collect()
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step()
    _sync(device)
    return int(torch.cuda.max_memory_allocated(device) - before)
