"""What a run leaves in its folder besides the checkpoint: TensorBoard events (scalars, histograms,
the task's picture, hparams), ``metrics.csv`` and ``curves.png``. Only rank 0 writes them."""

from __future__ import annotations

from pathlib import Path

import torch

from course_nn.data import CLASSIFICATION_2D, REGRESSION_1D, TaskData

#: Beside the TensorBoard events, for people who do not open TensorBoard (Lightning's CSVLogger habit).
METRICS_CSV, CURVES_PNG = "metrics.csv", "curves.png"
METRIC_COLUMNS = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "seconds")


def metrics_row(epoch: int, metrics: dict[str, float], seconds: float) -> dict[str, float | str]:
    return {"epoch": epoch, "train_loss": metrics["loss/train"], "val_loss": metrics["loss/val"],
            "train_accuracy": metrics.get("accuracy/train", ""), "val_accuracy": metrics.get("accuracy/val", ""),
            "seconds": round(seconds, 3)}


def metrics_csv(rows: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_metrics(path: Path, up_to: int) -> list[dict]:
    """A resumed run's earlier rows (those the checkpoint covers)."""
    import csv

    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("epoch", "").isdigit() and int(r["epoch"]) <= up_to]


def log_pictures(writer, model: torch.nn.Module, data: TaskData, step: int, title: str) -> None:
    """Histograms of every layer's weights and gradients, and the task's picture (drawn in input
    space: a feature map is part of the model, so the grid's points go through it too)."""
    from course_nn.train import plots

    for name, weight in model.layer_weights():
        writer.add_histogram(f"weights/{name}", weight.detach().float().cpu(), step)
        if weight.grad is not None:
            writer.add_histogram(f"grads/{name}", weight.grad.float().cpu(), step)
    if data.name in CLASSIFICATION_2D:
        writer.add_image("decision_boundary", plots.decision_boundary(model, data, title), step, dataformats="HWC")
    elif data.name in REGRESSION_1D:
        writer.add_image("fit", plots.fit(model, data), step, dataformats="HWC")


def log_hparams(writer, hp: dict, metrics: dict[str, float]) -> None:
    """hparams into the run's own event file (add_hparams would make a timestamped sub-run)."""
    from torch.utils.tensorboard.summary import hparams

    exp, ssi, sei = hparams(hp, metrics)
    file_writer = writer._get_file_writer()
    for summary in (exp, ssi, sei):
        file_writer.add_summary(summary)
