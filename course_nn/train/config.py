"""What ``course-nn train`` is asked to do, checked before any work: the settings with their
defaults, a resumed run's saved settings, the run folder, and every path a flag names.

:func:`prepare` turns a :class:`TrainConfig` (``None`` = "the default" or, when resuming, "the
checkpoint's value") into a :class:`Plan`; every mistake it finds is a one-line UsageError.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from course_nn.data import CLASSIFICATION_2D, IMAGE_TASKS, REGRESSION_1D, TASKS
from course_nn.errors import UsageError
from course_nn.impl import default_impl
from course_nn.train import checkpoint
from course_nn.train.model import ACTIVATIONS, MODELS, parse_hidden

#: Per-task defaults for (epochs, batch size, learning rate), tuned so that the default spiral run
#: reaches ≥ 97% validation accuracy and sine a validation MSE < 0.01 on 2 CPU cores in seconds.
TASK_DEFAULTS: dict[str, tuple[int, int, float]] = {
    **{t: (150, 16, 0.1) for t in CLASSIFICATION_2D},
    **{t: (200, 16, 0.05) for t in REGRESSION_1D},
    **{t: (5, 64, 0.1) for t in IMAGE_TASKS},
}

#: Settings a resumed run takes from its checkpoint (changing them would make it a different run).
FIXED_ON_RESUME = ("task", "model", "hidden", "activation", "features", "seed", "batch_size", "lr", "momentum",
                   "n_train", "n_val")
#: Settings a resumed run takes from its checkpoint unless the command line gives them.
KEPT_ON_RESUME = ("impl", "epochs", "hw2")
#: What checkpoints written before a setting existed mean by it.
LEGACY = {"features": "raw"}
#: What resuming reads from a checkpoint.
RESUME_KEYS = frozenset({"model", "config", "epoch", "step", "torch_rng"})


@dataclass
class TrainConfig:
    """Everything ``course-nn train`` takes. ``None`` means "the task's default" (or, when resuming,
    "the checkpoint's value")."""

    task: str | None = None
    impl: str | None = None
    model: str | None = None
    hidden: str | None = None
    activation: str | None = None
    features: str | None = None
    hw2: str | None = None
    device: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    momentum: float | None = None
    seed: int | None = None
    n_train: int | None = None
    n_val: int | None = None
    threads: int | None = None
    data_dir: str = "data"
    download: bool = False
    logdir: str | None = None
    run_name: str | None = None
    summary: str | None = None
    resume: str | None = None
    quiet: bool = False
    plot_every: int | None = None


@dataclass
class Plan:
    """A checked run: the settings with every default filled in, its folder, and the checkpoint it
    resumes (None for a new run)."""

    cfg: TrainConfig
    run_dir: Path
    saved: dict[str, Any] | None


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda when available, else cpu; "cuda" without CUDA is a usage error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was requested but CUDA is not available here; use --device cpu or auto")
    if name != "cpu" and not name.startswith("cuda"):
        raise UsageError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)


def hidden_sizes(text: str) -> list[int]:
    """``--hidden`` parsed by :func:`parse_hidden`; a UsageError with the reason otherwise."""
    try:
        return parse_hidden(text)
    except ValueError as err:
        raise UsageError(f"--hidden {text!r}: {err}; give positive layer sizes separated by commas, e.g. 64,64 "
                         "(for no hidden layer use --model logreg)") from None


def fill_defaults(cfg: TrainConfig, saved: dict[str, Any] | None, processes: int = 1) -> TrainConfig:
    """Merge command line, checkpoint and defaults. Explicit flags that contradict the checkpoint
    are a usage error: a resumed run must be the same run."""
    values = asdict(cfg)
    if saved is not None:
        for key in FIXED_ON_RESUME:
            kept = saved.get(key, LEGACY.get(key))
            if values[key] is not None and values[key] != kept:
                raise UsageError(
                    f"--{key.replace('_', '-')} {values[key]} differs from the checkpoint's {kept}; "
                    "a resumed run keeps its settings (drop the flag, or start a new run without --resume)"
                )
            values[key] = kept
        for key in KEPT_ON_RESUME:
            if values[key] is None:
                values[key] = saved.get(key)
    task = values["task"] or "spiral"
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    epochs, batch_size, lr = TASK_DEFAULTS[task]
    defaults = dict(task=task, model="mlp", hidden="64,64", activation="relu", features="raw",
                    epochs=epochs, batch_size=batch_size, lr=lr, momentum=0.0, seed=0, logdir="runs")
    for key, value in defaults.items():
        if values[key] is None:
            values[key] = value
    if values["hw2"]:  # absolute, so that a resumed run finds it from any folder
        values["hw2"] = str(Path(values["hw2"]).expanduser().resolve())
    if values["impl"] is None:
        # a hw2 MLP is built from torch's built-ins unless told otherwise (as its handout's TorchFunctions);
        # else solutions/ in a clone, ./functions.py in a student's bundle
        values["impl"] = "torch" if values["hw2"] else default_impl()
    out = TrainConfig(**values)
    validate(out, processes)
    return out


def validate(cfg: TrainConfig, processes: int = 1) -> None:
    """UsageError for a combination of settings that cannot train."""
    from course_nn.choices import FEATURES

    if cfg.model not in MODELS:
        raise UsageError(f"unknown model {cfg.model!r}; choose one of: {', '.join(MODELS)}")
    if cfg.activation not in ACTIVATIONS:
        raise UsageError(f"unknown activation {cfg.activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    if cfg.features not in FEATURES:
        raise UsageError(f"unknown feature map {cfg.features!r}; choose one of: {', '.join(FEATURES)}")
    if cfg.features != "raw" and cfg.task in IMAGE_TASKS:
        raise UsageError(f"--features {cfg.features} is for the 1-D and 2-D tasks (on {cfg.task}'s 784 pixels it "
                         "would make 308,504 features); drop --features or pick a 1-D or 2-D --task")
    hidden_sizes(cfg.hidden)
    for name in ("epochs", "batch_size"):
        if getattr(cfg, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if not cfg.lr > 0:
        raise UsageError("--lr must be positive")
    if not 0 <= cfg.momentum < 1:
        raise UsageError("--momentum must be in [0, 1)")
    if cfg.hw2 and cfg.momentum:
        raise UsageError(f"--momentum {cfg.momentum:g} with --hw2: your sgd_step does plain gradient descent; "
                         "drop --momentum")
    if cfg.batch_size % processes:
        lower, higher = cfg.batch_size // processes * processes, (cfg.batch_size // processes + 1) * processes
        raise UsageError(
            f"--batch-size {cfg.batch_size} does not split evenly over {processes} processes (it is the global "
            f"batch, each process takes an equal share); pick a multiple of {processes}, e.g. "
            f"{lower or higher} or {higher}")


def impl_label(impl: str) -> str:
    """A short name for run folders and dashboards: solutions, torch, or the file's folder-stem."""
    if impl in ("solutions", "assignments", "torch"):
        return impl
    path = Path(impl)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{path.parent.name}-{path.stem}".strip("-")) or "file"


def run_name(cfg: TrainConfig) -> str:
    """The default run folder name: TASK-MODEL[-FEATURES]-IMPL, or TASK-hw2-FILE for a student's MLP."""
    if cfg.hw2:
        return f"{cfg.task}-hw2-{impl_label(cfg.hw2)}"
    features = f"-{cfg.features}" if cfg.features != "raw" else ""
    return f"{cfg.task}-{cfg.model}{features}-{impl_label(cfg.impl)}"


def run_dir(cfg: TrainConfig, resumed_from: Path | None) -> Path:
    """<logdir>/<run-name>. A resumed run continues in the checkpoint's folder unless told otherwise;
    a new default name never reuses an existing run's folder (it gets -2, -3, ...)."""
    if resumed_from is not None and cfg.run_name is None:
        return resumed_from.parent
    logdir = Path(cfg.logdir)
    if cfg.run_name is not None:
        run = logdir / cfg.run_name
        if resumed_from is None and (run / checkpoint.CHECKPOINT).exists():
            raise UsageError(
                f"{run} already holds a run; continue it with --resume {run / checkpoint.CHECKPOINT} "
                "or pick another --run-name"
            )
        return run
    base = run_name(cfg)
    run, k = logdir / base, 1
    while run.exists():
        k += 1
        run = logdir / f"{base}-{k}"
    return run


def _writable_folder(folder: Path, flag: str, target: Path | None = None) -> None:
    """UsageError unless ``folder`` is a folder this process can write in, or one it can create
    (its nearest existing ancestor is a writable folder). ``target`` is what the flag named."""
    target = folder if target is None else target
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {target}: {existing} is a file, not a folder (folders are created if missing)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {target}: cannot write in {existing} (permission denied); pick a folder you can write to")


def check_paths(cfg: TrainConfig, run: Path) -> None:
    """Fail before training, not after it, when a path flag cannot work."""
    if cfg.resume and cfg.run_name is None:
        _writable_folder(run, "--resume", Path(cfg.resume))  # the run continues in the checkpoint's folder
    else:
        _writable_folder(Path(cfg.logdir), "--logdir")
        _writable_folder(run, "--run-name", run)
    if cfg.summary:
        summary = Path(cfg.summary)
        if summary.is_dir():
            raise UsageError(f"--summary {summary} is a folder; pass a file name, e.g. {summary / 'summary.json'}")
        _writable_folder(summary.parent, "--summary", summary)
        from course_nn.files import refuse_overwrite
        from course_nn.impl import impl_file

        refuse_overwrite(summary, "--summary", reads=[impl_file(cfg.impl), cfg.resume, cfg.hw2])
    if cfg.task in IMAGE_TASKS and Path(cfg.data_dir).exists() and not Path(cfg.data_dir).is_dir():
        raise UsageError(f"--data-dir {cfg.data_dir} is a file; pass the folder that holds MNIST/raw/")
    if cfg.hw2 is not None and not Path(cfg.hw2).is_file():
        what = "a folder" if Path(cfg.hw2).is_dir() else "not a file"
        raise UsageError(f"--hw2 {cfg.hw2} is {what}; pass your hw2 mlp.py (e.g. --hw2 mlp.py)")


def prepare(cfg: TrainConfig, processes: int = 1) -> Plan:
    """Check everything the command line asks for, before any work: the checkpoint to resume, the
    settings, the run folder and every path. ``processes``: how many share the global batch."""
    saved = checkpoint.load(cfg.resume) if cfg.resume else None
    if saved is not None and not RESUME_KEYS <= set(saved):
        raise UsageError(f"{saved['path']} lacks what resuming needs ({', '.join(sorted(RESUME_KEYS - set(saved)))}); "
                         "pass a checkpoint.pt written by course-nn train")
    cfg = fill_defaults(cfg, saved["config"] if saved else None, processes)
    resolve_device(cfg.device)
    if saved and saved["epoch"] >= cfg.epochs:
        raise UsageError(
            f"{saved['path']} has already trained {saved['epoch']} epochs; --epochs is the total, "
            f"pass a larger one (e.g. --epochs {saved['epoch'] * 2}) to train further"
        )
    run = run_dir(cfg, Path(saved["path"]) if saved else None)
    check_paths(cfg, run)
    return Plan(cfg, run, saved)
