"""What a benchmark run is asked to do (:class:`BenchConfig`) and the one timing loop every comparison uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from course_nn.bench import measure


@dataclass
class BenchConfig:
    """What to run. ``quick`` settings (few pairs, tiny blocks) exist for tests; numbers from them are noise."""

    device: str = "cpu"
    impl: Path | None = None
    batches: tuple[int, ...] = (1, 128, 1024)
    headline_batch: int = 128
    style_batch: int = 1
    pairs: int = 25
    warmup: int = 10
    block_seconds: float = 0.08
    threads: int | None = None
    compile: bool = False
    grade: bool = True
    grade_repeats: int = 5
    grade_submission: Path | None = None
    container_grade: bool = True  # as root where namespaces work: time grading in container mode too
    seed: int = 0
    retries: int = 2
    log: Callable[[str], None] = field(default=lambda msg: None)


NOISY = 1.3  # median block time this far above the fastest block: something else was using the cores


def timed(step_a: Callable[[], object], step_b: Callable[[], object], device: torch.device, cfg: BenchConfig,
          block_scale: float = 1.0) -> measure.PairTiming:
    """:func:`measure.time_pairs` with cfg's settings, repeated (up to ``cfg.retries`` times) while the timings
    look disturbed by other processes; keeps the quietest attempt. On a shared 2-core machine one busy
    neighbour can stretch every block of a comparison, which alternation alone cannot cancel."""
    best: measure.PairTiming | None = None
    for _ in range(1 + cfg.retries):
        timing = measure.time_pairs(
            step_a, step_b, device,
            pairs=cfg.pairs, warmup=cfg.warmup, block_seconds=cfg.block_seconds * block_scale,
        )
        if best is None or timing.noise < best.noise:
            best = timing
        if best.noise <= NOISY:
            break
    assert best is not None
    return best
