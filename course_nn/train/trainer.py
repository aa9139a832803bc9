"""The reference training loop: plain SGD over in-memory tensors, TensorBoard logging, atomic
checkpoints, deterministic resume.

One step, as in the lecture: zero the gradients, forward through the implementation's Functions,
J = loss(out, y), backward (the hand-written backward of every Function), θ ← θ − η ∇θ J.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from course_nn.data import CLASSIFICATION_2D, IMAGE_TASKS, REGRESSION_1D, TASKS, TaskData, load_task
from course_nn.errors import CourseError, UsageError
from course_nn.files import atomic_write, atomic_write_text, write_json
from course_nn.impl import Functions, default_impl, describe_failure, describe_impl, load_functions
from course_nn.train import checkpoint
from course_nn.train.model import ACTIVATIONS, MODELS, Network, build_network, num_parameters, parse_hidden

#: Per-task defaults for (epochs, batch size, learning rate), tuned so that the default spiral run
#: reaches ≥ 97% validation accuracy and sine a validation MSE < 0.01 on 2 CPU cores in seconds.
TASK_DEFAULTS: dict[str, tuple[int, int, float]] = {
    **{t: (150, 16, 0.1) for t in CLASSIFICATION_2D},
    **{t: (200, 16, 0.05) for t in REGRESSION_1D},
    **{t: (5, 64, 0.1) for t in IMAGE_TASKS},
}

#: Settings a resumed run takes from its checkpoint (changing them would make it a different run).
FIXED_ON_RESUME = ("task", "model", "hidden", "activation", "seed", "batch_size", "lr", "momentum", "n_train", "n_val")
#: What resuming reads from a checkpoint.
RESUME_KEYS = frozenset({"model", "optimizer", "config", "epoch", "step", "shuffle_rng", "torch_rng"})


#: Beside the TensorBoard events, for people who do not open TensorBoard (Lightning's CSVLogger habit).
METRICS_CSV, CURVES_PNG = "metrics.csv", "curves.png"
METRIC_COLUMNS = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "seconds")
#: Seconds between plain progress lines when stderr is not a terminal (a log file, CI).
PLAIN_EVERY = 2.0


def _metrics_row(epoch: int, metrics: dict[str, float], seconds: float) -> dict[str, float | str]:
    return {"epoch": epoch, "train_loss": metrics["loss/train"], "val_loss": metrics["loss/val"],
            "train_accuracy": metrics.get("accuracy/train", ""), "val_accuracy": metrics.get("accuracy/val", ""),
            "seconds": round(seconds, 3)}


def _metrics_csv(rows: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _read_metrics(path: Path, up_to: int) -> list[dict]:
    """A resumed run's earlier rows (those the checkpoint covers)."""
    import csv

    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("epoch", "").isdigit() and int(r["epoch"]) <= up_to]


class Interrupted(CourseError):
    """Ctrl-C: the last finished epoch's checkpoint is kept; exit code 130 like a shell."""

    exit_code = 130


@dataclass
class TrainConfig:
    """Everything ``course-nn train`` takes. ``None`` means "the task's default" (or, when resuming,
    "the checkpoint's value")."""

    task: str | None = None
    impl: str | None = None
    model: str | None = None
    hidden: str | None = None
    activation: str | None = None
    device: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    momentum: float | None = None
    seed: int | None = None
    n_train: int | None = None
    n_val: int | None = None
    data_dir: str = "data"
    download: bool = False
    logdir: str | None = None
    run_name: str | None = None
    summary: str | None = None
    resume: str | None = None
    quiet: bool = False
    plot_every: int | None = None


# ----------------------------------------------------------------------------- setup


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda when available, else cpu; "cuda" without CUDA is a usage error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was requested but CUDA is not available here; use --device cpu or auto")
    if name != "cpu" and not name.startswith("cuda"):
        raise UsageError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)


def _fill_defaults(cfg: TrainConfig, saved: dict[str, Any] | None) -> TrainConfig:
    """Merge command line, checkpoint and defaults. Explicit flags that contradict the checkpoint
    are a usage error: a resumed run must be the same run."""
    values = asdict(cfg)
    if saved is not None:
        for key in FIXED_ON_RESUME:
            if values[key] is not None and values[key] != saved.get(key):
                raise UsageError(
                    f"--{key.replace('_', '-')} {values[key]} differs from the checkpoint's {saved.get(key)}; "
                    "a resumed run keeps its settings (drop the flag, or start a new run without --resume)"
                )
            values[key] = saved.get(key)
        for key in ("impl", "epochs"):
            if values[key] is None:
                values[key] = saved.get(key)
    task = values["task"] or "spiral"
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    epochs, batch_size, lr = TASK_DEFAULTS[task]
    defaults = dict(task=task, model="mlp", hidden="64,64", activation="relu",
                    epochs=epochs, batch_size=batch_size, lr=lr, momentum=0.0, seed=0, logdir="runs")
    for key, value in defaults.items():
        if values[key] is None:
            values[key] = value
    if values["impl"] is None:
        values["impl"] = default_impl()  # solutions/ in a clone, ./functions.py in a student's bundle
    out = TrainConfig(**values)
    _validate(out)
    return out


def hidden_sizes(text: str) -> list[int]:
    """``--hidden`` parsed by :func:`parse_hidden`; a UsageError with the reason otherwise."""
    try:
        return parse_hidden(text)
    except ValueError as err:
        raise UsageError(f"--hidden {text!r}: {err}; give positive layer sizes separated by commas, e.g. 64,64 "
                         "(for no hidden layer use --model logreg)") from None


def _validate(cfg: TrainConfig) -> None:
    if cfg.model not in MODELS:
        raise UsageError(f"unknown model {cfg.model!r}; choose one of: {', '.join(MODELS)}")
    if cfg.activation not in ACTIVATIONS:
        raise UsageError(f"unknown activation {cfg.activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    hidden_sizes(cfg.hidden)
    for name in ("epochs", "batch_size"):
        if getattr(cfg, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if not cfg.lr > 0:
        raise UsageError("--lr must be positive")
    if not 0 <= cfg.momentum < 1:
        raise UsageError("--momentum must be in [0, 1)")


def _impl_label(impl: str) -> str:
    if impl in ("solutions", "assignments", "torch"):
        return impl
    path = Path(impl)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{path.parent.name}-{path.stem}".strip("-")) or "file"


def _run_dir(cfg: TrainConfig, resumed_from: Path | None) -> Path:
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
    base = f"{cfg.task}-{cfg.model}-{_impl_label(cfg.impl)}"
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


def _check_paths(cfg: TrainConfig, run_dir: Path) -> None:
    """Fail before training, not after it, when a path flag cannot work."""
    if cfg.resume and cfg.run_name is None:
        _writable_folder(run_dir, "--resume", Path(cfg.resume))  # the run continues in the checkpoint's folder
    else:
        _writable_folder(Path(cfg.logdir), "--logdir")
        _writable_folder(run_dir, "--run-name", run_dir)
    if cfg.summary:
        summary = Path(cfg.summary)
        if summary.is_dir():
            raise UsageError(f"--summary {summary} is a folder; pass a file name, e.g. {summary / 'summary.json'}")
        _writable_folder(summary.parent, "--summary", summary)
        from course_nn.files import refuse_overwrite
        from course_nn.impl import impl_file

        refuse_overwrite(summary, "--summary", reads=[impl_file(cfg.impl), cfg.resume])
    if cfg.task in IMAGE_TASKS and Path(cfg.data_dir).exists() and not Path(cfg.data_dir).is_dir():
        raise UsageError(f"--data-dir {cfg.data_dir} is a file; pass the folder that holds MNIST/raw/")


# ----------------------------------------------------------------------------- the loop


class Diverged(Exception):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, step: int, batch: int, value: float) -> None:
        super().__init__(f"loss {value} at epoch {epoch}, step {step}")
        self.epoch, self.step, self.batch, self.value = epoch, step, batch, value


@dataclass
class State:
    """Mutable training state; everything here (plus the model) goes into the checkpoint."""

    model: Network
    optimizer: torch.optim.Optimizer
    shuffle: torch.Generator
    epoch: int = 0  # epochs finished
    step: int = 0  # optimizer steps taken


def _accuracy_count(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (out.argmax(dim=1) == y).sum()


def train_epoch(state: State, data: TaskData, batch_size: int, bar) -> tuple[float, float | None]:
    """One pass over the shuffled training set; returns (mean loss, accuracy or None)."""
    model, opt = state.model, state.optimizer
    n = len(data.x_train)
    perm = torch.randperm(n, generator=state.shuffle).to(data.x_train.device)
    loss_sum, correct, seen = 0.0, 0, 0
    for b, start in enumerate(range(0, n, batch_size)):
        idx = perm[start:start + batch_size]
        x, y = data.x_train[idx], data.y_train[idx]
        opt.zero_grad(set_to_none=True)  # gradients accumulate otherwise
        out = model(x)
        loss = model.loss(out, y, data.is_classification)
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(state.epoch + 1, state.step + 1, b + 1, value)
        loss.backward()
        opt.step()
        state.step += 1
        loss_sum += value * len(idx)
        seen += len(idx)
        if data.is_classification:
            correct += int(_accuracy_count(out.detach(), y))
        if bar is not None:
            if b % 8 == 0:
                post = {"loss": f"{loss_sum / seen:.4f}"}
                if data.is_classification:
                    post["acc"] = f"{correct / seen:.3f}"
                bar.set_postfix(post, refresh=False)
            bar.update(1)
    return loss_sum / seen, (correct / seen if data.is_classification else None)


@torch.no_grad()
def evaluate(model: Network, data: TaskData, chunk: int = 8192) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) on the validation set."""
    n = len(data.x_val)
    loss_sum, correct = 0.0, 0
    for start in range(0, n, chunk):
        x, y = data.x_val[start:start + chunk], data.y_val[start:start + chunk]
        out = model(x)
        loss_sum += model.loss(out, y, data.is_classification).item() * len(x)
        if data.is_classification:
            correct += int(_accuracy_count(out, y))
    return loss_sum / n, (correct / n if data.is_classification else None)


@contextlib.contextmanager
def _ctrl_c_after():
    """Hold Ctrl-C until the block ends: an interrupt inside torch.save would otherwise surface as
    torch's RuntimeError from the half-closed zip writer instead of a clean KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if pending:
        raise KeyboardInterrupt


def _save(path: Path, state: State, cfg: TrainConfig, metrics: dict[str, float]) -> None:
    payload = {
        "epoch": state.epoch,
        "step": state.step,
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "shuffle_rng": state.shuffle.get_state(),
        "torch_rng": torch.get_rng_state(),
        "config": {f.name: getattr(cfg, f.name) for f in fields(cfg)
                   if f.name in FIXED_ON_RESUME + ("impl", "epochs")},
        "metrics": metrics,
    }
    if torch.cuda.is_available():
        payload["cuda_rng"] = torch.cuda.get_rng_state_all()
    with _ctrl_c_after():
        checkpoint.save(path, payload)


def _restore(state: State, saved: dict[str, Any]) -> None:
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.shuffle.set_state(saved["shuffle_rng"])
    torch.set_rng_state(saved["torch_rng"])
    if "cuda_rng" in saved and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
    state.epoch, state.step = int(saved["epoch"]), int(saved["step"])


# ----------------------------------------------------------------------------- TensorBoard


def _log_pictures(writer, state: State, data: TaskData) -> None:
    """Histograms of every layer's weights and gradients, and the task's picture."""
    from course_nn.train import plots

    model, step = state.model, state.epoch
    for name, layer in zip(model.layer_names, model.layers):
        writer.add_histogram(f"weights/{name}", layer.weight.detach().float().cpu(), step)
        if layer.weight.grad is not None:
            writer.add_histogram(f"grads/{name}", layer.weight.grad.float().cpu(), step)
    if data.name in CLASSIFICATION_2D:
        writer.add_image("decision_boundary", plots.decision_boundary(model, data), step, dataformats="HWC")
    elif data.name in REGRESSION_1D:
        writer.add_image("fit", plots.fit(model, data), step, dataformats="HWC")


def _log_hparams(writer, cfg: TrainConfig, metrics: dict[str, float]) -> None:
    """hparams into the run's own event file (add_hparams would make a timestamped sub-run)."""
    from torch.utils.tensorboard.summary import hparams

    hp = {"task": cfg.task, "impl": _impl_label(cfg.impl), "model": cfg.model, "hidden": cfg.hidden,
          "activation": cfg.activation, "lr": cfg.lr, "batch_size": cfg.batch_size,
          "momentum": cfg.momentum, "epochs": cfg.epochs, "seed": cfg.seed}
    exp, ssi, sei = hparams(hp, metrics)
    file_writer = writer._get_file_writer()
    for summary in (exp, ssi, sei):
        file_writer.add_summary(summary)


# ----------------------------------------------------------------------------- entry point


def _friendly(fns: Functions, err: Exception, fallback: bool = False) -> CourseError | None:
    """A one-line error (exit 1) for an exception raised by the implementation's Functions, else None.
    ``fallback``: only the implementation's code ran, so blame it even without a Function to name."""
    failure = describe_failure(fns, err, fallback=fallback and fns.name not in ("solutions", "torch"))
    return None if failure is None else CourseError(failure.line)


def _probe(fns: Functions, model: Network, data: TaskData, batch_size: int) -> None:
    """One forward and backward on the first batch (no update), so an unimplemented or broken
    Function is reported as one line before anything is written."""
    try:
        x, y = data.x_train[:batch_size], data.y_train[:batch_size]
        model.loss(model(x), y, data.is_classification).backward()
    except Exception as err:
        friendly = _friendly(fns, err, fallback=True)
        if friendly is None:
            raise
        raise friendly from None
    finally:
        model.zero_grad(set_to_none=True)


def _print(cfg: TrainConfig, *parts: str) -> None:
    print(*parts, file=sys.stderr)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train as configured; returns the summary (also written to ``cfg.summary`` as JSON).

    Raises UsageError for bad input, CourseError when training diverges or the implementation
    fails, Interrupted on Ctrl-C (the last epoch's checkpoint is kept).
    """
    t0 = time.perf_counter()
    saved = checkpoint.load(cfg.resume) if cfg.resume else None
    if saved is not None and not RESUME_KEYS <= set(saved):
        raise UsageError(f"{saved['path']} lacks what resuming needs ({', '.join(sorted(RESUME_KEYS - set(saved)))}); "
                         "pass a checkpoint.pt written by course-nn train")
    cfg = _fill_defaults(cfg, saved["config"] if saved else None)
    device = resolve_device(cfg.device)
    if saved and saved["epoch"] >= cfg.epochs:
        raise UsageError(
            f"{saved['path']} has already trained {saved['epoch']} epochs; --epochs is the total, "
            f"pass a larger one (e.g. --epochs {saved['epoch'] * 2}) to train further"
        )
    run_dir = _run_dir(cfg, Path(saved["path"]) if saved else None)
    _check_paths(cfg, run_dir)
    if not cfg.quiet:  # first: which implementation trains, before anything can fail on it
        _print(cfg, f"training {cfg.model} on {cfg.task} with {describe_impl(cfg.impl)} on {device}, "
                    f"epochs {(saved['epoch'] if saved else 0) + 1}..{cfg.epochs}; run folder {run_dir}")
    fns = load_functions(cfg.impl)
    data = load_task(cfg.task, seed=cfg.seed, n_train=cfg.n_train, n_val=cfg.n_val,
                     data_dir=cfg.data_dir, download=cfg.download).to(device)
    model = build_network(fns, cfg.model, data.num_inputs, data.num_outputs, hidden_sizes(cfg.hidden),
                          cfg.activation, seed=cfg.seed + 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    state = State(model, optimizer, torch.Generator().manual_seed(cfg.seed + 2))
    _probe(fns, model, data, cfg.batch_size)  # a missing Function fails here, before a run folder exists
    if saved:
        try:
            _restore(state, saved)
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise UsageError(f"{saved['path']} does not fit this network ({type(err).__name__}: "
                             f"{' '.join(str(err).split())[:200]}); start a new run without --resume") from None
    ckpt = run_dir / checkpoint.CHECKPOINT
    plot_every = cfg.plot_every or max(1, cfg.epochs // 20)

    from torch.utils.tensorboard import SummaryWriter
    from tqdm import tqdm

    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        # purge_step drops events a crashed run logged after its last checkpoint
        writer = SummaryWriter(str(run_dir), purge_step=state.epoch + 1 if saved else None)
    except OSError as err:  # e.g. a read-only file system, which os.access does not see for root
        raise UsageError(f"cannot write the run folder {run_dir}: {err.strerror or err}") from None
    metrics: dict[str, float] = dict(saved.get("metrics", {})) if saved else {}
    if not saved:
        _log_pictures(writer, state, data)  # the untrained network, step 0
        _save(ckpt, state, cfg, metrics)
    history = _read_metrics(run_dir / METRICS_CSV, state.epoch) if saved else []
    n_batches = math.ceil(len(data.x_train) / cfg.batch_size)
    bars = not cfg.quiet and sys.stderr.isatty()  # in a log file or CI, plain lines instead (below)
    outer = tqdm(total=cfg.epochs, initial=state.epoch, desc=cfg.task, unit="epoch", disable=not bars,
                 dynamic_ncols=True)
    # one batch bar, reset every epoch (creating a bar per epoch costs more than a small epoch)
    bar = tqdm(total=n_batches, unit="batch", leave=False, dynamic_ncols=True, mininterval=0.2) if bars else None
    started, last_line = time.perf_counter(), -math.inf
    elapsed0 = float(history[-1]["seconds"]) if history else 0.0
    try:
        while state.epoch < cfg.epochs:
            if bar is not None:
                bar.reset(total=n_batches)
                bar.set_description(f"epoch {state.epoch + 1}", refresh=False)
            train_loss, train_acc = train_epoch(state, data, cfg.batch_size, bar)
            state.epoch += 1
            val_loss, val_acc = evaluate(model, data)
            metrics = {"loss/train": train_loss, "loss/val": val_loss}
            writer.add_scalar("loss/train", train_loss, state.epoch)
            writer.add_scalar("loss/val", val_loss, state.epoch)
            if data.is_classification:
                metrics.update({"accuracy/train": train_acc, "accuracy/val": val_acc})
                writer.add_scalar("accuracy/train", train_acc, state.epoch)
                writer.add_scalar("accuracy/val", val_acc, state.epoch)
            if state.epoch % plot_every == 0 or state.epoch == cfg.epochs:
                _log_pictures(writer, state, data)
            _save(ckpt, state, cfg, metrics)
            seconds = elapsed0 + time.perf_counter() - started
            history.append(_metrics_row(state.epoch, metrics, seconds))
            atomic_write_text(run_dir / METRICS_CSV, _metrics_csv(history))
            outer.set_postfix({k.replace("accuracy", "acc"): f"{v:.4f}" for k, v in metrics.items()}, refresh=False)
            outer.update(1)
            if not bars and not cfg.quiet and (time.perf_counter() - last_line >= PLAIN_EVERY
                                                or state.epoch == cfg.epochs):
                last_line = time.perf_counter()
                _print(cfg, f"epoch {state.epoch}/{cfg.epochs}: "
                            + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + f" ({seconds:.1f} s)")
    except Diverged as d:
        writer.flush()
        cause = ("an unstable CrossEntropy (compute log-softmax with the row maximum subtracted)"
                 if data.is_classification else "an unstable SquaredError")
        raise CourseError(
            f"training stopped: the loss became {d.value} at epoch {d.epoch}, step {d.step} (batch {d.batch}); "
            f"the learning rate {cfg.lr:g} is probably too large (try --lr {cfg.lr / 10:g}), or {cause}; "
            f"the last good checkpoint (epoch {state.epoch}) is kept at {ckpt}"
        ) from None
    except KeyboardInterrupt:
        writer.flush()
        raise Interrupted(
            f"interrupted during epoch {state.epoch + 1}; TensorBoard is flushed and the checkpoint of epoch "
            f"{state.epoch} is kept at {ckpt}; resume with: course-nn train --resume {ckpt} --epochs {cfg.epochs}"
        ) from None
    except Exception as err:
        friendly = _friendly(fns, err)
        if friendly is None:
            raise
        raise friendly from None
    finally:
        if bar is not None:
            bar.close()
        outer.close()
        if sys.exc_info()[0] is not None:
            writer.close()

    _log_hparams(writer, cfg, metrics)
    writer.close()
    if history:
        from course_nn.train import plots

        png = plots.curves_png(history)
        atomic_write(run_dir / CURVES_PNG, lambda f: f.write(png))
    summary = {
        "task": cfg.task,
        "impl": cfg.impl,
        "model": cfg.model,
        "hidden": cfg.hidden if cfg.model == "mlp" else "",
        "activation": cfg.activation,
        "device": str(device),
        "epochs": state.epoch,
        "steps": state.step,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "momentum": cfg.momentum,
        "seed": cfg.seed,
        "train_loss": metrics["loss/train"],
        "val_loss": metrics["loss/val"],
        "seconds": round(time.perf_counter() - t0, 3),
        "num_parameters": num_parameters(model),
        "run_dir": str(run_dir),
        "checkpoint": str(ckpt),
    }
    if data.is_classification:
        summary["train_accuracy"] = metrics["accuracy/train"]
        summary["val_accuracy"] = metrics["accuracy/val"]
    if cfg.summary:
        try:
            write_json(cfg.summary, summary)
        except OSError as err:
            raise UsageError(f"--summary: cannot write {cfg.summary}: {err.strerror or err} "
                             f"(the run itself is saved in {run_dir})") from None
    return summary
