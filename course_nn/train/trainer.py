"""The reference training loop: plain SGD over in-memory tensors, TensorBoard logging, atomic
checkpoints, deterministic resume; one process, or one rank of a data-parallel run.

One step, as in the lecture: zero the gradients, forward through the implementation's Functions,
J = loss(out, y), backward (the hand-written backward of every Function), θ ← θ − η ∇θ J. In a
distributed run (course_nn/train/distributed.py) the forward runs inside DistributedDataParallel on
this rank's share of the batch and backward averages the gradients of all ranks; only rank 0
evaluates and writes the run folder.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from course_nn.data import TaskData, load_task
from course_nn.errors import CourseError, UsageError
from course_nn.files import atomic_write, atomic_write_text, write_json
from course_nn.impl import Functions, describe_failure, describe_impl, load_functions
from course_nn.train import checkpoint, distributed, records, stopping, threads
from course_nn.train import features as feature_maps
from course_nn.train.config import (  # noqa: F401 - TrainConfig, hidden_sizes, resolve_device: the public names
    FIXED_ON_RESUME,
    KEPT_ON_RESUME,
    TrainConfig,
    hidden_sizes,
    impl_label,
    prepare,
    resolve_device,
)
from course_nn.train.model import build_network, num_parameters

#: Seconds between plain progress lines when stderr is not a terminal (a log file, CI).
PLAIN_EVERY = 2.0


class Interrupted(CourseError):
    """Ctrl-C: the last finished epoch's checkpoint is kept; exit code 130 like a shell."""

    exit_code = 130


class Diverged(Exception):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, step: int, batch: int, value: float) -> None:
        super().__init__(f"loss {value} at epoch {epoch}, step {step}")
        self.epoch, self.step, self.batch, self.value = epoch, step, batch, value


@dataclass
class State:
    """Mutable training state; everything here (plus the model) goes into the checkpoint. The
    batch order is not state: the sampler draws epoch e's order from the seed and e."""

    model: torch.nn.Module  # the network: its state_dict is the checkpoint's
    net: torch.nn.Module  # what runs the forward: the network, or DDP around it
    optimizer: torch.optim.Optimizer | None  # None: a --hw2 run steps with the student's sgd_step
    sampler: Any  # torch.utils.data.DistributedSampler
    epoch: int = 0  # epochs finished
    step: int = 0  # optimizer steps taken


def _order(state: State, device: torch.device) -> torch.Tensor:
    """This rank's indices of the epoch about to start, in order."""
    state.sampler.set_epoch(state.epoch)
    return torch.tensor(list(state.sampler), dtype=torch.long, device=device)


def train_epoch(state: State, data: TaskData, batch_size: int, bar) -> tuple[float, float, float]:
    """One pass over this rank's share of the shuffled training set; returns (loss sum, correct,
    examples) over the share, to be added up over the ranks."""
    model, opt = state.model, state.optimizer
    order = _order(state, data.x_train.device)
    loss_sum, correct, seen = 0.0, 0, 0
    for b, start in enumerate(range(0, len(order), batch_size)):
        idx = order[start:start + batch_size]
        x, y = data.x_train[idx], data.y_train[idx]
        opt.zero_grad(set_to_none=True)  # gradients accumulate otherwise
        out = state.net(x)
        loss = model.loss(out, y, data.is_classification)
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(state.epoch + 1, state.step + 1, b + 1, value)
        loss.backward()  # in DDP: also averages every gradient over the ranks
        opt.step()
        state.step += 1
        loss_sum += value * len(idx)
        seen += len(idx)
        if data.is_classification:
            correct += int((out.detach().argmax(dim=1) == y).sum())
        if bar is not None:
            if b % 8 == 0:
                post = {"loss": f"{loss_sum / seen:.4f}"}
                if data.is_classification:
                    post["acc"] = f"{correct / seen:.3f}"
                bar.set_postfix(post, refresh=False)
            bar.update(1)
        stopping.check()  # Ctrl-C stops here, between steps (course_nn/train/stopping.py)
    return loss_sum, float(correct), float(seen)


def hw2_epoch(module, state: State, data: TaskData, batch_size: int, lr: float, bar) -> tuple[float, float, float]:
    """The student's train_epoch over this rank's share (course_nn/train/hw2.py)."""
    from course_nn.train import hw2

    order = _order(state, data.x_train.device)
    batches = [(data.x_train[order[k:k + batch_size]], data.y_train[order[k:k + batch_size]])
               for k in range(0, len(order), batch_size)]
    loss_sum, correct, seen, steps = hw2.run_epoch(module, state.net, state.model, batches, lr,
                                                   data.is_classification, state.epoch + 1, state.step, bar)
    state.step += steps
    return loss_sum, correct, seen


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: TaskData, chunk: int = 8192) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) on the validation set."""
    n = len(data.x_val)
    loss_sum, correct = 0.0, 0
    for start in range(0, n, chunk):
        x, y = data.x_val[start:start + chunk], data.y_val[start:start + chunk]
        out = model(x)
        loss_sum += model.loss(out, y, data.is_classification).item() * len(x)
        if data.is_classification:
            correct += int((out.argmax(dim=1) == y).sum())
    return loss_sum / n, (correct / n if data.is_classification else None)


def _save(path: Path, state: State, cfg: TrainConfig, metrics: dict[str, float]) -> None:
    payload = {
        "epoch": state.epoch,
        "step": state.step,
        "model": state.model.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "config": {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name in FIXED_ON_RESUME + KEPT_ON_RESUME},
        "metrics": metrics,
    }
    if state.optimizer is not None:
        payload["optimizer"] = state.optimizer.state_dict()
    if torch.cuda.is_available():
        payload["cuda_rng"] = torch.cuda.get_rng_state_all()
    checkpoint.save(path, payload)


def _restore(state: State, saved: dict[str, Any]) -> None:
    state.model.load_state_dict(saved["model"])
    if state.optimizer is not None and "optimizer" in saved:
        state.optimizer.load_state_dict(saved["optimizer"])
    torch.set_rng_state(saved["torch_rng"])
    if "cuda_rng" in saved and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
    state.epoch, state.step = int(saved["epoch"]), int(saved["step"])


def _friendly(fns: Functions, err: Exception, fallback: bool = False) -> CourseError | None:
    """A one-line error (exit 1) for an exception raised by the implementation's Functions, else None.
    ``fallback``: only the implementation's code ran, so blame it even without a Function to name."""
    failure = describe_failure(fns, err, fallback=fallback and fns.name not in ("solutions", "torch"))
    return None if failure is None else CourseError(failure.line)


def _probe(fns: Functions, model: torch.nn.Module, data: TaskData, batch_size: int) -> None:
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


def _print(*parts: str) -> None:
    print(*parts, file=sys.stderr)


@dataclass
class Setup:
    """What every rank builds from a Plan: the Functions, the data, the network and how to blame errors."""

    fns: Functions
    data: TaskData
    model: torch.nn.Module
    student: Any = None  # the student's hw2 module (--hw2), else None


def _build(cfg: TrainConfig, device: torch.device, local_batch: int) -> Setup:
    fns = load_functions(cfg.impl)
    data = load_task(cfg.task, seed=cfg.seed, n_train=cfg.n_train, n_val=cfg.n_val,
                     data_dir=cfg.data_dir, download=cfg.download).to(device)
    hidden = hidden_sizes(cfg.hidden) if cfg.model == "mlp" else []
    if cfg.hw2:
        from course_nn.train import hw2

        student = hw2.load(cfg.hw2)
        model = hw2.build(student, fns, [data.num_inputs, *hidden, data.num_outputs], cfg.activation,
                          cfg.features, seed=cfg.seed + 1).to(device)
        hw2.probe(student, model, data.x_train[:local_batch], data.y_train[:local_batch], data.is_classification)
        return Setup(fns, data, model, student)
    model = build_network(fns, cfg.model, data.num_inputs, data.num_outputs, hidden, cfg.activation,
                          seed=cfg.seed + 1, features=cfg.features).to(device)
    _probe(fns, model, data, local_batch)  # a missing Function fails here, before a run folder exists
    return Setup(fns, data, model)


def _blame(setup: Setup, err: Exception) -> CourseError | None:
    if setup.student is not None:
        from course_nn.train import hw2

        return hw2.blame(err, setup.student, setup.fns, "train_epoch")
    return _friendly(setup.fns, err)


def _first_line(cfg: TrainConfig, plan, ranks: distributed.Ranks, device: torch.device) -> str:
    """Which network trains with which implementation where: printed before anything can fail on it."""
    what = f"your hw2 MLP ({Path(cfg.hw2).resolve()})" if cfg.hw2 else cfg.model
    feats = "" if cfg.features == "raw" else f" (features {cfg.features})"
    where = f"{ranks.world} processes ({device.type})" if ranks.active else str(device)
    start = plan.saved["epoch"] if plan.saved else 0
    return (f"training {what} on {cfg.task}{feats} with {describe_impl(cfg.impl)} on {where}, "
            f"epochs {start + 1}..{cfg.epochs}; run folder {plan.run_dir}")


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train as configured; returns the summary (also written to ``cfg.summary`` as JSON). Started by
    torchrun or ``--nproc``, this process is one rank: rank 0 returns the summary, the others {}.

    Raises UsageError for bad input, CourseError when training diverges or the implementation
    fails, Interrupted on Ctrl-C (the last epoch's checkpoint is kept).
    """
    ranks, device = distributed.join(cfg.device)
    threads_before = torch.get_num_threads()  # a caller in the same process (a notebook) keeps its own
    try:
        return _train(cfg, ranks, device)
    except distributed.PeerStopped:
        raise
    except CourseError as err:
        if not ranks.active:
            raise
        labelled = CourseError(ranks.label() + str(err))
        labelled.exit_code = err.exit_code
        raise labelled from None
    except Exception as err:
        if ranks.active and distributed.is_collective_failure(err):
            raise distributed.PeerStopped(f"{ranks.label()}stopped: another process of the run went away "
                                          f"({' '.join(str(err).split())[:160]})") from None
        raise
    finally:
        torch.set_num_threads(threads_before)
        distributed.leave(ranks)


def _train(cfg: TrainConfig, ranks: distributed.Ranks, device: torch.device) -> dict[str, Any]:
    t0 = time.perf_counter()
    plan = ranks.share(lambda: prepare(cfg, ranks.world))
    cfg, run_dir, saved = plan.cfg, plan.run_dir, plan.saved
    local_batch = cfg.batch_size // ranks.world
    quiet = cfg.quiet or not ranks.main
    if not quiet:  # first: which implementation trains, before anything can fail on it
        _print(_first_line(cfg, plan, ranks, device))
    failed: CourseError | None = None
    try:
        setup = _build(cfg, device, local_batch)
    except CourseError as err:
        failed = err
    ranks.agree(failed)
    model, data = setup.model, setup.data
    weights = sum(w.numel() for _, w in model.layer_weights())
    torch.set_num_threads(cfg.threads or threads.choose(weights, local_batch, processes=ranks.local_world))
    optimizer = None if setup.student else torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    state = State(model, model, optimizer, ranks.sampler(len(data.x_train), cfg.seed + 2))
    if saved:
        try:
            _restore(state, saved)
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise UsageError(f"{saved['path']} does not fit this network ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:200]}); start a new run without --resume") from None
    state.net = ranks.wrap(model, device)
    ckpt = run_dir / checkpoint.CHECKPOINT
    plot_every = cfg.plot_every or max(1, cfg.epochs // 20)
    title = (f"{cfg.model if not cfg.hw2 else 'your hw2 MLP'} on "
             f"{feature_maps.describe(cfg.features, data.num_inputs)}") if data.num_inputs <= 2 else ""
    writer, metrics, history = None, dict(saved.get("metrics", {})) if saved else {}, []
    if ranks.main:
        from torch.utils.tensorboard import SummaryWriter

        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            # purge_step drops events a crashed run logged after its last checkpoint
            writer = SummaryWriter(str(run_dir), purge_step=state.epoch + 1 if saved else None)
        except OSError as err:  # e.g. a read-only file system, which os.access does not see for root
            raise CourseError(f"cannot write the run folder {run_dir}: {err.strerror or err}") from None
        if not saved:
            records.log_pictures(writer, model, data, 0, title)  # the untrained network, step 0
            _save(ckpt, state, cfg, metrics)
        history = records.read_metrics(run_dir / records.METRICS_CSV, state.epoch) if saved else []

    from tqdm import tqdm

    n_batches = math.ceil(len(state.sampler) / local_batch)
    bars = not quiet and sys.stderr.isatty()  # in a log file or CI, plain lines instead (below)
    outer = tqdm(total=cfg.epochs, initial=state.epoch, desc=cfg.task, unit="epoch", disable=not bars,
                 dynamic_ncols=True)
    # one batch bar, reset every epoch (creating a bar per epoch costs more than a small epoch)
    bar = tqdm(total=n_batches, unit="batch", leave=False, dynamic_ncols=True, mininterval=0.2) if bars else None
    started, last_line = time.perf_counter(), -math.inf
    elapsed0 = float(history[-1]["seconds"]) if history else 0.0
    try:
        with stopping.deferred_ctrl_c():  # Ctrl-C waits for stopping.check(), between steps
            while state.epoch < cfg.epochs:
                if bar is not None:
                    bar.reset(total=n_batches)
                    bar.set_description(f"epoch {state.epoch + 1}", refresh=False)
                if setup.student is not None:
                    sums = hw2_epoch(setup.student, state, data, local_batch, cfg.lr, bar)
                else:
                    sums = train_epoch(state, data, local_batch, bar)
                loss_sum, correct, seen = ranks.total(list(sums), device)
                state.epoch += 1
                if not ranks.main:
                    continue
                val_loss, val_acc = evaluate(model, data)
                metrics = {"loss/train": loss_sum / seen, "loss/val": val_loss}
                if data.is_classification:
                    metrics.update({"accuracy/train": correct / seen, "accuracy/val": val_acc})
                for tag, value in metrics.items():
                    writer.add_scalar(tag, value, state.epoch)
                if state.epoch % plot_every == 0 or state.epoch == cfg.epochs:
                    records.log_pictures(writer, model, data, state.epoch, title)
                _save(ckpt, state, cfg, metrics)
                seconds = elapsed0 + time.perf_counter() - started
                history.append(records.metrics_row(state.epoch, metrics, seconds))
                atomic_write_text(run_dir / records.METRICS_CSV, records.metrics_csv(history))
                outer.set_postfix({k.replace("accuracy", "acc"): f"{v:.4f}" for k, v in metrics.items()},
                                  refresh=False)
                outer.update(1)
                due = time.perf_counter() - last_line >= PLAIN_EVERY or state.epoch == cfg.epochs
                if not bars and not quiet and due:
                    last_line = time.perf_counter()
                    _print(f"epoch {state.epoch}/{cfg.epochs}: "
                           + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + f" ({seconds:.1f} s)")
                stopping.check()
    except Diverged as d:
        cause = ("an unstable CrossEntropy (compute log-softmax with the row maximum subtracted)"
                 if data.is_classification else "an unstable SquaredError")
        raise CourseError(
            f"training stopped: the loss became {d.value} at epoch {d.epoch}, step {d.step} (batch {d.batch}); "
            f"the learning rate {cfg.lr:g} is probably too large (try --lr {cfg.lr / 10:g}), or {cause}; "
            f"the last good checkpoint (epoch {state.epoch}) is kept at {ckpt}"
        ) from None
    except KeyboardInterrupt:
        more = f" --nproc {ranks.world}" if ranks.active else ""
        raise Interrupted(
            f"interrupted during epoch {state.epoch + 1}; TensorBoard is flushed and the checkpoint of epoch "
            f"{state.epoch} is kept at {ckpt}; resume with: course-nn train --resume {ckpt} --epochs {cfg.epochs}{more}"
        ) from None
    except Exception as err:
        friendly = _blame(setup, err)
        if friendly is None or (ranks.active and distributed.is_collective_failure(err)):
            raise
        raise friendly from None
    finally:
        if bar is not None:
            bar.close()
        outer.close()
        if writer is not None and sys.exc_info()[0] is not None:
            writer.close()  # flushes what the run logged so far

    if not ranks.main:
        return {}
    hp = {"task": cfg.task, "impl": impl_label(cfg.impl), "model": "hw2" if cfg.hw2 else cfg.model,
          "hidden": cfg.hidden, "activation": cfg.activation, "features": cfg.features, "lr": cfg.lr,
          "batch_size": cfg.batch_size, "momentum": cfg.momentum, "epochs": cfg.epochs, "seed": cfg.seed,
          "processes": ranks.world}
    records.log_hparams(writer, hp, metrics)
    writer.close()
    if history:
        from course_nn.train import plots

        png = plots.curves_png(history)
        atomic_write(run_dir / records.CURVES_PNG, lambda f: f.write(png))
    summary = {
        "task": cfg.task,
        "impl": cfg.impl,
        "model": cfg.model,
        "hidden": cfg.hidden if cfg.model == "mlp" else "",
        "activation": cfg.activation,
        "features": cfg.features,
        "hw2": str(Path(cfg.hw2).resolve()) if cfg.hw2 else None,
        "device": str(device),
        "processes": ranks.world,
        "threads": torch.get_num_threads(),
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
            raise CourseError(f"--summary: cannot write {cfg.summary}: {err.strerror or err} "
                              f"(the run itself is saved in {run_dir})") from None
    return summary
