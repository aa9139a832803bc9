"""Data-parallel step time: the trainer's SGD step with 1 process against 2 processes on this
machine (``course-nn bench`` reports it under ``ddp``; ``--skip-ddp`` leaves it out).

One step is forward + backward + update of a global batch B, built from the teaching reference's
Functions (or --impl). One process does it alone, with the intra-op threads the trainer would give
it; two processes (torch.distributed through the trainer's own launcher: loopback rendezvous, gloo
on the CPU, nccl on GPUs) each take B/2 inside DistributedDataParallel, whose backward also averages
the gradients (an allreduce), each with the threads the trainer gives a rank. Reported per model:
milliseconds per step for both and ``ddp_step_time_ratio`` = 2 processes over 1 (below 1.0 the two
processes are faster). The 2-64-64-2 spiral model at B = 16 is all overhead; the 784-256-256-10
MLP at B = 512 has arithmetic worth splitting.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

#: (name, layer sizes, global batch)
MODELS = (("spiral", (2, 64, 64, 2), 16), ("mlp784", (784, 256, 256, 10), 512))


def _steps(impl: str, sizes: tuple[int, ...], batch: int, device_name: str, blocks: int, steps: int,
           warmup: int) -> list[float]:
    """Milliseconds per step of ``blocks`` timed blocks of ``steps`` steps, in this process, or in each
    of the processes torch.distributed started (module level: they import it by name)."""
    import torch

    from course_nn.impl import load_functions
    from course_nn.train import distributed, threads
    from course_nn.train.model import build_network

    ranks, device = distributed.join(device_name)
    threads_before = torch.get_num_threads()
    try:
        local = batch // ranks.world
        model = build_network(load_functions(impl), "mlp", sizes[0], sizes[-1], list(sizes[1:-1]), "relu", 0).to(device)
        torch.set_num_threads(threads.choose(sum(w.numel() for _, w in model.layer_weights()), local,
                                             processes=ranks.local_world))
        net = ranks.wrap(model, device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        g = torch.Generator().manual_seed(ranks.rank)
        x = torch.randn(local, sizes[0], generator=g).to(device)
        y = torch.randint(0, sizes[-1], (local,), generator=g).to(device)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            model.loss(net(x), y, True).backward()
            opt.step()

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if ranks.active:
                import torch.distributed as dist

                dist.barrier()

        for _ in range(warmup):
            step()
        times = []
        for _ in range(blocks):
            sync()
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            sync()
            times.append((time.perf_counter() - t0) / steps * 1e3)
        return times
    finally:
        torch.set_num_threads(threads_before)
        distributed.leave(ranks)


def measure(impl: str | Path, device: str = "cpu", quick: bool = False, log=lambda msg: None) -> dict[str, Any]:
    """{model: {batch, one_process_ms, two_processes_ms, ddp_step_time_ratio}} for MODELS."""
    import tempfile

    from course_nn.errors import CourseError, UsageError
    from course_nn.impl import load_functions
    from course_nn.train.launch import run_ranks

    try:
        load_functions(str(impl))  # the trainer's network needs all five Functions
    except UsageError as err:
        return {"skipped": f"the trainer cannot build its network from {impl}: {err}"}
    blocks, warmup = (3, 2) if quick else (7, 20)
    out: dict[str, Any] = {}
    for name, sizes, batch in MODELS:
        steps = 5 if quick else max(10, 4000 // batch)
        log(f"ddp: {name} {'-'.join(map(str, sizes))}, global batch {batch}: 1 process, then 2")
        one = statistics.median(_steps(str(impl), sizes, batch, device, blocks, steps, warmup))
        with tempfile.TemporaryDirectory(prefix="course-nn-bench-ddp-") as tmp:
            try:
                results = run_ranks(2, _steps, (str(impl), sizes, batch, device, blocks, steps, warmup), Path(tmp))
            except Exception as err:  # torch's ChildFailedError: say which, in one line
                raise CourseError(f"the 2-process DDP benchmark failed: {' '.join(str(err).split())[:300]}") from None
        two = statistics.median(results[0])
        out[name] = {"sizes": list(sizes), "batch": batch, "one_process_ms": round(one, 4),
                     "two_processes_ms": round(two, 4), "ddp_step_time_ratio": round(two / one, 4)}
    return out


def format_lines(ddp: dict[str, Any]) -> list[str]:
    if "skipped" in ddp:
        return [f"ddp: skipped ({ddp['skipped']})"]
    return [f"ddp {name} ({'-'.join(map(str, e['sizes']))}, global batch {e['batch']}): 1 process "
            f"{e['one_process_ms']:.3f} ms/step, 2 processes {e['two_processes_ms']:.3f} ms/step, "
            f"ddp_step_time_ratio {e['ddp_step_time_ratio']:.2f}" for name, e in ddp.items()]
