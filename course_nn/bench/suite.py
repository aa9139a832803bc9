"""The benchmark itself: runs every measurement and returns one JSON-ready dict (see docs/benchmarks.md).

Two hand-written sides race torch's built-ins: the tuned variant (course_nn/bench/tuned.py, the headline
``step_time_ratio`` / ``saved_bytes_ratio``) and the teaching reference students read (solutions/, or any
``--impl`` file: ``teaching_*``). Ratios are always "hand-written over built-in" (or "setup_context style over
classic style"): below 1.0 the hand-written side is faster or smaller.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from course_nn.bench import breakdown, measure, models
from course_nn.bench.settings import BenchConfig, timed
from course_nn.errors import CourseError

GOALS: dict[str, float] = {"step_time_ratio": 1.05, "saved_bytes_ratio": 1.0, "grade_over_import_torch": 2.0,
                            "grade_batch_over_import_torch": 0.15}
# Ratios reported per batch (``<key>_batch<B>``) and, for the headline batch, at the top level. The first two
# measure the tuned variant (course_nn/bench/tuned.py), the teaching_* pair the teaching reference (or --impl).
BATCH_KEYS = ("step_time_ratio", "saved_bytes_ratio", "teaching_step_time_ratio", "teaching_saved_bytes_ratio",
              "function_floor_ratio", "peak_bytes_ratio", "teaching_peak_bytes_ratio")




def default_threads() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device: torch.device, threads: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": default_threads(),
        "torch_num_threads": threads,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        # other processes on the same cores distort CPU timings (threads wait for a descheduled peer)
        "load_average_1min": _load_average(),
    }
    if device.type == "cuda":
        info["cuda_device_name"] = torch.cuda.get_device_name(device)
        info["cuda_version"] = torch.version.cuda
    return info


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _ratio(a: float | int | None, b: float | int | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


@dataclass
class _Side:
    """One model of a comparison: its own copy of the weights, its step, and what one step saves and runs."""

    name: str
    forward: models.Forward
    params: list[torch.Tensor]
    step: Callable[[], object]
    saved: measure.SavedBytes
    ops: int | None
    peak: int | None


def _side(name: str, forward: models.Forward, start_params: list[torch.Tensor], x: torch.Tensor,
          target: torch.Tensor, device: torch.device) -> _Side:
    params = models.clone_params(start_params)

    def step() -> object:
        return models.sgd_step(forward, params, x, target)

    saved = measure.count_saved_bytes(lambda: forward(params, x, target))
    return _Side(name, forward, params, step, saved, measure.count_aten_ops(step), measure.peak_step_bytes(step, device))


def _side_keys(side: _Side, builtin: _Side, timing: measure.PairTiming, floor_ratio: float | None,
               cuda: bool) -> dict[str, Any]:
    """The per-batch numbers of one hand-written side, prefixed with its name (tuned_*, teaching_*)."""
    n = side.name
    out: dict[str, Any] = {
        f"{n}_ms_per_step": timing.a_seconds * 1e3,
        f"{n}_pair_ratios": [round(r, 4) for r in timing.ratios],
        f"{n}_timing_noise": timing.noise,
        f"{n}_saved_bytes": side.saved.nbytes,
        f"{n}_saved_storages": side.saved.storages,
        f"{n}_saved_tensors": side.saved.tensors,
        f"{n}_aten_ops_per_step": side.ops,
        f"{n}_over_floor": _ratio(timing.ratio, floor_ratio),
    }
    if cuda:
        out[f"{n}_peak_bytes"] = side.peak
    return out


def bench_batch(teaching: Any, batch: int, device: torch.device, cfg: BenchConfig) -> dict[str, Any]:
    """Every measurement at one batch size: the tuned variant (the headline ratios) and the teaching
    reference (``teaching_*``), each against the built-in MLP, plus the floor."""
    start_params = models.init_params(device, cfg.seed)
    x, target = models.make_batch(batch, device, cfg.seed + 1)
    builtin = _side("builtin", models.builtin_forward, start_params, x, target, device)
    tuned = _side("tuned", models.reference_forward(models.TUNED_FUNCTIONS), start_params, x, target, device)
    teach = _side("teaching", models.reference_forward(teaching), start_params, x, target, device)

    # Same weights and data: the losses must agree before any step is taken (the sides above only
    # counted and stepped their own copies, so compare on the untouched start weights).
    with torch.no_grad():
        ref_loss = models.builtin_forward(start_params, x, target)
        loss_diff = max(float((f(start_params, x, target) - ref_loss).abs()) for f in (tuned.forward, teach.forward))

    tuned_timing = timed(tuned.step, builtin.step, device, cfg)
    teach_timing = timed(teach.step, builtin.step, device, cfg)
    floor = bench_floor(start_params, x, target, builtin.step, device, cfg)
    floor_ratio = floor.ratio if floor is not None else None
    cuda = device.type == "cuda"
    entry: dict[str, Any] = {
        "batch": batch,
        "step_time_ratio": tuned_timing.ratio,
        "saved_bytes_ratio": _ratio(tuned.saved.nbytes, builtin.saved.nbytes),
        "teaching_step_time_ratio": teach_timing.ratio,
        "teaching_saved_bytes_ratio": _ratio(teach.saved.nbytes, builtin.saved.nbytes),
        "function_floor_ratio": floor_ratio,
        "builtin_ms_per_step": tuned_timing.b_seconds * 1e3,
        "builtin_saved_bytes": builtin.saved.nbytes,
        "builtin_saved_storages": builtin.saved.storages,
        "builtin_saved_tensors": builtin.saved.tensors,
        "builtin_aten_ops_per_step": builtin.ops,
        "steps_per_timed_block": tuned_timing.inner,
        "timing_noise": max(tuned_timing.noise, teach_timing.noise),
        "initial_loss_abs_diff": loss_diff,
        **_side_keys(tuned, builtin, tuned_timing, floor_ratio, cuda),
        **_side_keys(teach, builtin, teach_timing, floor_ratio, cuda),
    }
    if cuda:
        entry.update(
            builtin_peak_bytes=builtin.peak,
            peak_bytes_ratio=_ratio(tuned.peak, builtin.peak),
            teaching_peak_bytes_ratio=_ratio(teach.peak, builtin.peak),
        )
    return entry


def bench_floor(start_params: list[torch.Tensor], x: torch.Tensor, target: torch.Tensor,
                bi_step: Callable[[], object], device: torch.device, cfg: BenchConfig) -> measure.PairTiming | None:
    """The floor model (torch's own kernels inside six custom Functions) against the built-in step ``bi_step``.

    Its ratio is what the Function machinery alone costs per step; ``reference_over_floor`` (step_time_ratio
    over this) is then what the hand-written math costs on top. None if this torch lacks one of the kernels.
    """
    floor_params = models.clone_params(start_params)
    floor_forward = models.reference_forward(models.KERNEL_FUNCTIONS)
    try:
        models.sgd_step(floor_forward, floor_params, x, target)  # also a warm-up step, as the timed pairs start warm
    except Exception:  # aten.threshold_backward & co. are internal names: a diagnostic, never fatal
        return None
    return timed(lambda: models.sgd_step(floor_forward, floor_params, x, target), bi_step, device, cfg)


def _probed_mode() -> str:
    """The containment mode a grader started from here picks (what the grade timings measured)."""
    from course_nn.grading import sandbox

    return sandbox.containment().mode


def run_bench(cfg: BenchConfig) -> dict[str, Any]:
    """Run everything ``cfg`` asks for and return the result dict that ``course-nn bench --json`` writes."""
    device = torch.device(cfg.device)
    threads = cfg.threads or default_threads()
    torch.set_num_threads(threads)
    impl = cfg.impl
    teaching = models.load_functions(impl)
    tuned = models.TUNED_FUNCTIONS
    started = time.perf_counter()
    result: dict[str, Any] = {
        "device": str(device),
        "impl": str(impl),
        "headline_batch": cfg.headline_batch,
        "machine": machine_info(device, threads),
        "settings": {
            "layers": list(models.LAYER_SIZES),
            "pairs": cfg.pairs,
            "warmup_pairs": cfg.warmup,
            "block_seconds": cfg.block_seconds,
            "seed": cfg.seed,
        },
        "goals": dict(GOALS),
    }
    per_batch: dict[str, Any] = {}
    for batch in cfg.batches:
        cfg.log(f"batch {batch}: timing the tuned variant and the teaching reference vs built-in ...")
        try:
            entry = bench_batch(teaching, batch, device, cfg)
        except Exception as err:  # a broken functions.py (e.g. a student's) is reported in one line
            first = (str(err).strip().splitlines() or [""])[0][:200]
            raise CourseError(f"{impl} failed in the MLP at batch {batch}: {type(err).__name__}: {first}") from err
        per_batch[str(batch)] = entry
        for key in BATCH_KEYS:
            if key in entry:
                result[f"{key}_batch{batch}"] = entry[key]
    headline = per_batch.get(str(cfg.headline_batch), {})
    for key in BATCH_KEYS:
        if key in headline:
            result[key] = headline[key]
    result["batches"] = per_batch

    result["layers"] = {}
    for batch in dict.fromkeys((cfg.style_batch, cfg.headline_batch)):
        cfg.log(f"batch {batch}: timing each layer (forward + backward) against its built-in twin ...")
        try:
            result["layers"][str(batch)] = breakdown.bench_layers(teaching, batch, device, cfg)
        except Exception as err:  # e.g. a student's Function that fails at this shape: a diagnostic, not fatal
            result["layers"][str(batch)] = {"skipped": f"{type(err).__name__}: {str(err)[:200]}"}

    cfg.log(f"batch {cfg.style_batch}: timing setup_context-style vs classic-style apply ...")
    try:
        result["function_style"] = breakdown.bench_styles(tuned, cfg.style_batch, device, cfg)
    except Exception as err:  # a diagnostic: never fatal
        result["function_style"] = {"skipped": f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"}
    result["setup_context_over_classic"] = result["function_style"].get("setup_context_over_classic")
    cfg.log("timing the fixed cost of one custom Function (forward + backward) ...")
    result["function_overhead"] = breakdown.bench_function_overhead(device, cfg)

    if cfg.compile:
        cfg.log(f"batch {cfg.headline_batch}: torch.compile of both models (compiling takes a while) ...")
        result["compile"] = breakdown.bench_compiled(tuned, cfg.headline_batch, device, cfg)
        result["compile_step_time_ratio"] = result["compile"].get("step_time_ratio")
    result["bench_seconds"] = time.perf_counter() - started

    if cfg.grade:
        from course_nn.bench.grade_time import measure_grade

        cfg.log(f"grading {cfg.grade_submission} ({cfg.grade_repeats} repeats, alternated with 'import torch') ...")
        result.update(measure_grade(cfg.grade_submission or impl, repeats=cfg.grade_repeats))
        from course_nn.bench.grade_time import measure_batch

        cfg.log("grade-batch of 20 copies with --jobs = cores, then the unchanged rerun ...")
        result.update(measure_batch(cfg.grade_submission or impl, import_torch_seconds=result.get("import_torch_seconds")))
        result["grade_mode"] = _probed_mode()
        if cfg.container_grade and os.geteuid() == 0 and result["grade_mode"] != "container":
            cfg.log("the same two in container mode (no namespaces: a uid per grading, Landlock, seccomp) ...")
            container = measure_grade(cfg.grade_submission or impl, repeats=cfg.grade_repeats, mode="container")
            container.update(measure_batch(cfg.grade_submission or impl, mode="container",
                                           import_torch_seconds=result.get("import_torch_seconds")))
            result.update({f"container_{key}": value for key, value in container.items()})
    else:
        result.update(grade_seconds=None, import_torch_seconds=None, grade_over_import_torch=None,
                      grade_note="skipped (--skip-grade)", grade_batch_seconds_per_submission=None,
                      grade_batch_over_import_torch=None, grade_batch_rerun_seconds=None)
    # None where the number was not measured (e.g. --skip-grade), so "not met" always means measured and over
    result["goals_met"] = {
        key: (None if result.get(key) is None else bool(result[key] <= limit)) for key, limit in GOALS.items()
    }
    result["machine"]["load_average_1min_at_end"] = _load_average()
    result["total_seconds"] = time.perf_counter() - started
    return result
