"""Where a step's gap comes from: each layer against its built-in twin, setup_context against classic style,
the fixed cost of one custom Function, and both models under ``torch.compile``. Diagnostics: the headline
ratios are in :mod:`course_nn.bench.suite`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from course_nn.bench import models
from course_nn.bench.settings import BenchConfig, timed


def bench_layers(teaching: Any, batch: int, device: torch.device, cfg: BenchConfig) -> dict[str, Any]:
    """Forward + backward of each hand-written layer (tuned and teaching) against its built-in twin, at the
    MLP's shapes.

    Says which layer the step-time gap comes from: ``gap_us`` (tuned) and ``teaching_gap_us`` are
    (median ratio - 1) x built-in time, per call of the layer (the step calls Linear 3 times, ReLU twice,
    CrossEntropy once).
    """
    gen = torch.Generator().manual_seed(cfg.seed + 2)

    def rand(*shape: int, grad: bool = False) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device).requires_grad_(grad)

    x0, w1, b1 = rand(batch, 784), rand(256, 784, grad=True), rand(256, grad=True)
    h, w2, b2 = rand(batch, 256, grad=True), rand(256, 256, grad=True), rand(256, grad=True)
    z, logits = rand(batch, 256, grad=True), rand(batch, 10, grad=True)
    target = torch.randint(0, 10, (batch,), generator=gen).to(device)
    g256 = rand(batch, 256)
    leaves = (w1, b1, h, w2, b2, z, logits)

    def run(fn: Callable[[], torch.Tensor], grad: torch.Tensor | None) -> Callable[[], None]:
        def call() -> None:
            fn().backward(grad)
            for t in leaves:
                t.grad = None
        return call

    def cases(fns: Any) -> dict[str, tuple[Callable[[], torch.Tensor], torch.Tensor | None]]:
        return {
            "Linear 784->256 (input needs no grad)": (lambda: fns.Linear.apply(x0, w1, b1), g256),
            "Linear 256->256": (lambda: fns.Linear.apply(h, w2, b2), g256),
            "ReLU": (lambda: fns.ReLU.apply(z), g256),
            "CrossEntropy": (lambda: fns.CrossEntropy.apply(logits, target), None),
        }

    builtins = cases(_BuiltinLayers)
    out: dict[str, Any] = {"batch": batch}
    for side, fns in (("tuned", models.TUNED_FUNCTIONS), ("teaching", teaching)):
        for name, (fn, grad) in cases(fns).items():
            timing = timed(run(fn, grad), run(builtins[name][0], grad), device, cfg, block_scale=0.25)
            prefix = "" if side == "tuned" else "teaching_"
            out.setdefault(name, {"builtin_us": timing.b_seconds * 1e6}).update({
                f"{prefix}ratio": timing.ratio,
                f"{side}_us": timing.a_seconds * 1e6,
                f"{prefix}gap_us": (timing.ratio - 1) * timing.b_seconds * 1e6,
            })
    return out


class _BuiltinLayers:
    """torch's built-in layers behind the hw1 ``.apply`` interface, the twins of the per-layer timing."""

    class Linear:
        apply = staticmethod(torch.nn.functional.linear)

    class ReLU:
        apply = staticmethod(torch.nn.functional.relu)

    class CrossEntropy:
        apply = staticmethod(torch.nn.functional.cross_entropy)


def bench_styles(functions: Any, batch: int, device: torch.device, cfg: BenchConfig) -> dict[str, Any]:
    """setup_context-style apply against classic-style apply, same Functions and math (see models' adapters).
    Run on the tuned variant: the style's cost does not depend on the math inside.

    Also times the classic adapter against the Functions as written, which bounds what the adapters
    themselves add (one small Python object and a few attribute copies per call).
    """
    start_params = models.init_params(device, cfg.seed)
    x, target = models.make_batch(batch, device, cfg.seed + 1)
    steps: dict[str, Callable[[], object]] = {}
    for name, fns in (
        ("as_written", functions),
        ("classic", models.adapted_functions(functions, "classic")),
        ("setup_context", models.adapted_functions(functions, "setup_context")),
    ):
        params, forward = models.clone_params(start_params), models.reference_forward(fns)
        steps[name] = lambda f=forward, p=params: models.sgd_step(f, p, x, target)
    style = timed(steps["setup_context"], steps["classic"], device, cfg)
    adapter = timed(steps["classic"], steps["as_written"], device, cfg)
    return {
        "batch": batch,
        "setup_context_over_classic": style.ratio,
        "setup_context_ms_per_step": style.a_seconds * 1e3,
        "classic_ms_per_step": style.b_seconds * 1e3,
        # from the median ratio (robust to load), not from the two medians; 6 applies per step
        "setup_context_extra_us_per_apply": (style.ratio - 1) * style.b_seconds * 1e6 / 6,
        "adapter_over_as_written": adapter.ratio,
        "timing_noise": max(style.noise, adapter.noise),
    }


class _Double(torch.autograd.Function):
    """y = 2x as a custom Function: the cheapest possible forward and backward, so its cost is the overhead."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output * 2


def bench_function_overhead(device: torch.device, cfg: BenchConfig, width: int = 256) -> dict[str, Any]:
    """Fixed cost of one custom Function (apply + ctx + Python backward) over the same op written with torch.

    Both sides compute y = 2x on a (1, width) tensor and backpropagate the same gradient, so the difference
    is what wrapping an op in a Function costs per call, forward and backward together. Six Functions per
    step times this number is the floor of the batch-1 gap.
    """
    x = torch.randn(1, width, device=device, requires_grad=True)
    grad = torch.ones(1, width, device=device)

    def custom() -> None:
        _Double.apply(x).backward(grad)
        x.grad = None

    def builtin() -> None:
        (x * 2).backward(grad)
        x.grad = None

    timing = timed(custom, builtin, device, cfg)
    return {
        "custom_function_us": timing.a_seconds * 1e6,
        "builtin_op_us": timing.b_seconds * 1e6,
        "overhead_us_per_function": (timing.a_seconds - timing.b_seconds) * 1e6,
    }


def bench_compiled(functions: Any, batch: int, device: torch.device, cfg: BenchConfig) -> dict[str, Any]:
    """Both forwards (``functions``, the tuned variant, and the built-ins) wrapped in ``torch.compile``
    (backward and SGD stay eager); skipped with a note on failure."""
    start = time.perf_counter()
    try:
        start_params = models.init_params(device, cfg.seed)
        ref_params, bi_params = models.clone_params(start_params), models.clone_params(start_params)
        x, target = models.make_batch(batch, device, cfg.seed + 1)
        ref_forward = torch.compile(models.reference_forward(functions))
        bi_forward = torch.compile(models.builtin_forward)
        models.sgd_step(ref_forward, ref_params, x, target)  # compiles; errors surface here
        models.sgd_step(bi_forward, bi_params, x, target)
        compile_seconds = time.perf_counter() - start
        timing = timed(
            lambda: models.sgd_step(ref_forward, ref_params, x, target),
            lambda: models.sgd_step(bi_forward, bi_params, x, target),
            device, cfg,
        )
    except Exception as err:  # inductor needs a C compiler, triton, ...: a missing piece skips, never fails
        first = (str(err).strip().splitlines() or [""])[0][:200]
        return {"batch": batch, "skipped": f"torch.compile failed here: {type(err).__name__}: {first}"}
    return {
        "batch": batch,
        "step_time_ratio": timing.ratio,
        "tuned_ms_per_step": timing.a_seconds * 1e3,
        "builtin_ms_per_step": timing.b_seconds * 1e3,
        "compile_seconds": compile_seconds,
    }
