"""Benchmark hand-written hw1 Functions against torch's built-ins on a 784-256-256-10 MLP.

Every model gets the same weights and data; one step is forward + backward + SGD. Two hand-written sides
race the built-ins: the tuned variant (course_nn/bench/tuned.py: fused addmm, sign() mask, scalar scatter_)
and the teaching reference students read (solutions/hw1_autograd/functions.py, or --impl PATH). Reported as
ratios "hand-written over built-in" (below 1.0 = the hand-written side is faster/smaller):

  step_time_ratio     tuned variant: median over alternated A/B pairs of the per-pair step-time ratio
                      (batch 128; also batch 1 and 1024, with absolute ms per step)
  saved_bytes_ratio   tuned variant: bytes autograd saves for backward in one step, each storage once
  teaching_step_time_ratio, teaching_saved_bytes_ratio   the same two for the teaching reference (--impl)
  function_floor_ratio   the same MLP with torch's own kernels wrapped in six custom Functions, over
                      built-ins: what the Function machinery alone costs, the lowest step_time_ratio
                      any hand-written functions.py can reach on this machine
  peak_bytes_ratio    (--device cuda) torch.cuda.max_memory_allocated during one step (also teaching_*)
  setup_context_over_classic   the same Functions applied in setup_context style vs classic style (batch 1)
  grade_seconds, grade_over_import_torch   'course-nn grade' of the reference solution vs 'python -c "import torch"'
  grade_batch_seconds_per_submission, grade_batch_over_import_torch, grade_batch_rerun_seconds
                                           'course-nn grade-batch' of 20 copies, --jobs = cores, and its cached rerun
                      (grade_mode: the containment mode they ran in; as root where namespaces work, the same
                      keys prefixed container_ measure container mode, forced with COURSE_NN_CONTAINMENT=container)
  ddp.<model>.ddp_step_time_ratio   the trainer's step with 2 processes (DistributedDataParallel, gloo on
                      the CPU, nccl on GPUs, each process half the global batch) over 1 process, for the
                      2-64-64-2 spiral MLP at batch 16 and a 784-256-256-10 MLP at batch 512 (--skip-ddp)

--impl benchmarks any functions.py in place of the teaching reference, e.g. a student's. The default run
takes two to four minutes on 2 CPU cores; --quick (numbers are noise) checks that everything runs.

examples:
  course-nn bench --device cpu --json /tmp/bench.json
  course-nn bench --batches 128 --skip-grade              # the headline batch only, about a minute
  course-nn bench --impl submissions/alice/functions.py --skip-grade
  course-nn bench --device cuda --compile --json bench_cuda.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from course_nn.errors import UsageError
from course_nn.files import write_json

QUICK = {"pairs": 3, "warmup": 1, "block_seconds": 0.002, "grade_repeats": 1, "retries": 0}
NOISY = 1.3  # same threshold as course_nn.bench.settings.NOISY (kept here so --help does not import torch)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from course_nn import choices
    from course_nn import cli_types as t

    parser.add_argument("--device", choices=[d for d in choices.DEVICES if d != "auto"], default="cpu",
                        help="where to run the models (default: cpu)")
    parser.add_argument("--json", metavar="OUT", type=t.output_file("bench.json"),
                        help="also write every number to this JSON file (atomically; its folder must exist)")
    parser.add_argument(
        "--impl", metavar="PATH", type=Path,
        help="functions.py measured as the teaching side (teaching_* keys) next to the tuned variant"
             " (default: <repo>/solutions/hw1_autograd/functions.py)",
    )
    parser.add_argument(
        "--batches", type=t.batch_sizes, default="1,128,1024", metavar="B1,B2,...",
        help="batch sizes to time (default: 1,128,1024; the headline ratios are batch 128)",
    )
    parser.add_argument("--threads", type=t.positive_int, metavar="N",
                        help="torch.set_num_threads (default: every usable core)")
    parser.add_argument("--pairs", type=t.positive_int, metavar="N", help="timed A/B pairs per comparison (default: 25)")
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts: checks that it runs, numbers are noise")
    parser.add_argument("--compile", action="store_true", help="also time both models under torch.compile (slow to compile)")
    parser.add_argument("--skip-grade", action="store_true", help="do not time 'course-nn grade'")
    parser.add_argument("--skip-ddp", action="store_true",
                        help="do not time the trainer's step with 2 processes against 1 (torch.distributed)")
    parser.add_argument("--grade-repeats", type=t.positive_int, metavar="N", help="timed grading runs (default: 5)")
    parser.add_argument("--skip-container-grade", action="store_true",
                        help="as root, do not also time grading in container mode (no namespaces, as in a default "
                             "Docker container)")


def _default_impl() -> Path:
    from course_nn.paths import solutions_dir

    path = solutions_dir(required=True) / "hw1_autograd" / "functions.py"
    if not path.is_file():
        raise UsageError(f"{path} is missing; pass --impl PATH to benchmark another functions.py")
    return path


def _grade_submission(impl: Path) -> Path:
    """The grade timing wants a correct submission: the reference solution when there is one, else ``impl``."""
    from course_nn.paths import solutions_dir

    solutions = solutions_dir(required=False)
    reference = solutions / "hw1_autograd" / "functions.py" if solutions else None
    return reference if reference is not None and reference.is_file() else impl


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _grade_lines(result: dict[str, Any], prefix: str, mode: str) -> list[str]:
    """The grading and grade-batch lines of one containment mode (``prefix`` of its keys)."""
    r = {key[len(prefix):]: value for key, value in result.items() if key.startswith(prefix)} if prefix else result
    where = f" ({mode} mode)" if mode else ""
    if r.get("grade_seconds") is not None:
        lines = [f"grading{where}: {r['grade_seconds']:.2f} s, import torch: {r['import_torch_seconds']:.2f} s,"
                 f" {prefix}grade_over_import_torch {r['grade_over_import_torch']:.2f}"]
    else:
        lines = [f"grading{where}: not timed ({r.get('grade_note')})"]
    if r.get("grade_batch_seconds_per_submission") is not None:
        lines.append(
            f"grade-batch{where} of {r['grade_batch_copies']} with --jobs {r['grade_batch_jobs']}:"
            f" {r['grade_batch_seconds_per_submission']:.2f} s per submission,"
            f" {prefix}grade_batch_over_import_torch {r['grade_batch_over_import_torch']:.2f};"
            f" unchanged rerun {r['grade_batch_rerun_seconds']:.1f} s;"
            f" steady state {r.get('grade_batch_steady_seconds_per_submission') or float('nan'):.2f} s per student")
    elif r.get("grade_batch_note"):
        lines.append(f"grade-batch{where}: not timed ({r['grade_batch_note']})")
    return lines


def format_table(result: dict[str, Any]) -> str:
    """The human-readable summary printed by the command (the same numbers as the JSON)."""
    cuda = result["device"].startswith("cuda")
    head = (f"{'batch':>6} {'tuned ms':>9} {'teaching ms':>12} {'torch ms':>9} {'step_time_ratio':>16}"
            f" {'teaching':>9} {'floor':>6} {'saved_bytes_ratio':>18} {'teaching':>9}"
            f" {'saved KiB tuned/teach/torch':>28} {'aten ops tuned/teach/torch':>27}")
    if cuda:
        head += f" {'peak_bytes_ratio':>17} {'teaching':>9}"
    lines = [head]
    for e in result["batches"].values():
        saved = "/".join(f"{e[f'{k}_saved_bytes'] / 1024:.0f}" for k in ("tuned", "teaching", "builtin"))
        ops = "/".join(_fmt(e[f"{k}_aten_ops_per_step"], "d") for k in ("tuned", "teaching", "builtin"))
        line = (
            f"{e['batch']:>6} {e['tuned_ms_per_step']:>9.3f} {e['teaching_ms_per_step']:>12.3f}"
            f" {e['builtin_ms_per_step']:>9.3f} {e['step_time_ratio']:>16.3f} {e['teaching_step_time_ratio']:>9.3f}"
            f" {_fmt(e.get('function_floor_ratio'), '.3f'):>6} {_fmt(e['saved_bytes_ratio'], '.4f'):>18}"
            f" {_fmt(e['teaching_saved_bytes_ratio'], '.4f'):>9} {saved:>28} {ops:>27}"
        )
        if cuda:
            line += f" {_fmt(e.get('peak_bytes_ratio'), '.4f'):>17} {_fmt(e.get('teaching_peak_bytes_ratio'), '.4f'):>9}"
        lines.append(line)
    for batch, layers in result.get("layers", {}).items():
        if "skipped" in layers:
            lines.append(f"layers at batch {batch}: skipped ({layers['skipped']})")
            continue
        parts = [
            f"{name.split(' (')[0]} {v['tuned_us']:.0f}/{v['teaching_us']:.0f}/{v['builtin_us']:.0f} us"
            f" ({v['gap_us']:+.0f}/{v['teaching_gap_us']:+.0f})"
            for name, v in layers.items() if name != "batch"
        ]
        lines.append(f"layers at batch {batch}, tuned/teaching/torch fwd+bwd per call (gaps): " + ", ".join(parts))
    style = result.get("function_style", {})
    if "skipped" in style:
        lines.append(f"function style: skipped ({style['skipped']})")
    else:
        lines.append(
            f"function style at batch {style['batch']}: setup_context {style['setup_context_ms_per_step']:.3f} ms/step,"
            f" classic {style['classic_ms_per_step']:.3f} ms/step, ratio {style['setup_context_over_classic']:.3f}"
            f" ({style['setup_context_extra_us_per_apply']:+.1f} us per apply)"
        )
    over = result.get("function_overhead")
    small = result["batches"].get(str(style.get("batch", 1)))
    if over is not None and small is not None:
        gap_us = (small["step_time_ratio"] - 1) * small["builtin_ms_per_step"] * 1e3  # tuned; from the median ratio
        lines.append(
            f"one custom Function costs {over['overhead_us_per_function']:.1f} us more than the same op"
            f" (forward + backward); x6 per step = {6 * over['overhead_us_per_function']:.0f} us"
            f" of the {gap_us:.0f} us gap at batch {small['batch']}"
        )
    comp = result.get("compile")
    if comp is not None:
        if "skipped" in comp:
            lines.append(f"torch.compile: skipped ({comp['skipped']})")
        else:
            lines.append(
                f"torch.compile at batch {comp['batch']}: tuned {comp['tuned_ms_per_step']:.3f} ms/step,"
                f" torch {comp['builtin_ms_per_step']:.3f} ms/step, step_time_ratio {comp['step_time_ratio']:.3f}"
            )
    lines += _grade_lines(result, "", result.get("grade_mode") or "")
    if any(key.startswith("container_") for key in result):
        lines += _grade_lines(result, "container_", "container")
    noisy = [e["batch"] for e in result["batches"].values() if e.get("timing_noise", 1.0) > NOISY]
    if noisy:
        lines.append(
            f"warning: timings at batch {', '.join(map(str, noisy))} were disturbed by other processes even after"
            f" retries (load average {result['machine'].get('load_average_1min')}); rerun on a quieter machine"
        )
    if result.get("ddp"):
        from course_nn.bench.ddp import format_lines

        lines += format_lines(result["ddp"])
    m = result["machine"]
    lines.append(
        f"machine: {m['cpu_model']}, {m['logical_cores']} logical cores, torch {m['torch_version']},"
        f" {m['torch_num_threads']} threads" + (f", {m['cuda_device_name']}" if cuda else "")
    )
    goals = ", ".join(
        f"{k} <= {v:g}: {'-' if result['goals_met'][k] is None else ('met' if result['goals_met'][k] else 'NOT met')}"
        for k, v in result["goals"].items()
    )
    lines.append(f"goals (batch {result['headline_batch']}, tuned variant): {goals}")
    lines.append(
        "tuned = course_nn/bench/tuned.py (step_time_ratio, saved_bytes_ratio); teaching = "
        f"{result['impl']} (teaching_*); floor = the same MLP with torch's own kernels inside six custom"
        " Functions, over built-ins: what the Function machinery alone costs; no hand-written math gets below it"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    batches = args.batches  # flags were checked by argparse (course_nn.cli_types)
    impl = args.impl if args.impl is not None else _default_impl()
    if args.json is not None:
        from course_nn.files import refuse_overwrite

        refuse_overwrite(args.json, "--json", reads=[impl])

    import torch  # heavy: only once the arguments are known to be good

    from course_nn.bench.models import load_functions
    from course_nn.bench.settings import BenchConfig
    from course_nn.bench.suite import run_bench

    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda but torch.cuda.is_available() is False on this machine; use --device cpu")
    load_functions(impl)  # fail fast, in one line, before any timing

    settings: dict[str, Any] = dict(QUICK) if args.quick else {}
    if args.pairs is not None:
        settings["pairs"] = args.pairs
    if args.grade_repeats is not None:
        settings["grade_repeats"] = args.grade_repeats
    cfg = BenchConfig(
        device=args.device,
        impl=impl,
        batches=batches,
        headline_batch=128 if 128 in batches else batches[0],
        threads=args.threads,
        compile=args.compile,
        grade=not args.skip_grade,
        container_grade=not args.skip_container_grade,
        grade_submission=None if args.skip_grade else _grade_submission(impl),
        log=lambda msg: print(f"course-nn bench: {msg}", file=sys.stderr, flush=True),
        **settings,
    )
    result = run_bench(cfg)
    if not args.skip_ddp:
        from course_nn.bench import ddp

        result["ddp"] = ddp.measure(impl, args.device, quick=args.quick, log=cfg.log)
    print(format_table(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0
