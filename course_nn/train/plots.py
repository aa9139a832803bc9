"""Pictures for TensorBoard: the decision boundary of a 2-D classifier and the fit of a 1-D regressor.

Both return an RGB image as a uint8 array (H, W, 3) for ``SummaryWriter.add_image(..., dataformats="HWC")``.
matplotlib runs with the Agg backend (no display needed).
"""

from __future__ import annotations

import numpy as np
import torch

from course_nn.data import TaskData

GRID = 160  # pixels per side of the decision-boundary grid


def _figure(width: float = 4.2, height: float = 4.0):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _to_rgb(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


@torch.no_grad()
def decision_boundary(model: torch.nn.Module, data: TaskData, title: str = "", max_points: int = 600) -> np.ndarray:
    """Predicted regions of a 2-class, 2-D classifier with the training points on top.

    The background is P(class 1) = softmax(logits)[1] on a GRID×GRID grid (blue 0 … red 1), the black
    line is the decision boundary P = 0.5; points are coloured by their true class. The grid is in
    input space: a model with a feature map maps each grid point itself, so a linear boundary in
    feature space shows as the curve it is in the plane. ``title`` names the model (e.g. its features).
    """
    device = next(model.parameters()).device
    x = data.x_train.cpu()
    lo = (x.min(0).values - 0.1).tolist()
    hi = (x.max(0).values + 0.1).tolist()
    gx = torch.linspace(lo[0], hi[0], GRID)
    gy = torch.linspace(lo[1], hi[1], GRID)
    mesh = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1).reshape(-1, 2)
    logits = model(mesh.to(device=device, dtype=data.x_train.dtype)).float().cpu()
    prob = torch.softmax(logits, dim=1)[:, 1].reshape(GRID, GRID).numpy()

    fig = _figure()
    ax = fig.add_axes((0.1, 0.1, 0.85, 0.85))
    ax.imshow(prob, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="RdBu_r", vmin=0, vmax=1,
              alpha=0.55, aspect="auto")
    ax.contour(gx.numpy(), gy.numpy(), prob, levels=[0.5], colors="k", linewidths=1.2)
    y = data.y_train.cpu()[:max_points].numpy()
    pts = x[:max_points].numpy()
    ax.scatter(pts[:, 0], pts[:, 1], c=np.where(y == 1, "#b2182b", "#2166ac"), s=7, edgecolors="white",
               linewidths=0.3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(f"{data.name}: predicted regions, boundary P=0.5" + (f"\n{title}" if title else ""), fontsize=9)
    ax.tick_params(labelsize=7)
    return _to_rgb(fig)


@torch.no_grad()
def fit(model: torch.nn.Module, data: TaskData, max_points: int = 400) -> np.ndarray:
    """A 1-D regressor: the target function, the network's output, the training points, and each
    unit of the last hidden layer's contribution to the output, v_j · h_j(x) (thin lines).

    The output is exactly Σ_j v_j h_j(x) + c, so the thin lines are the pieces the network adds up.
    A model without ``forward_all`` (a student's hw2 MLP) shows its output only.
    """
    device = next(model.parameters()).device
    x = torch.linspace(-1.1, 1.1, 300).unsqueeze(1)
    xd = x.to(device=device, dtype=data.x_train.dtype)
    outs = model.forward_all(xd) if hasattr(model, "forward_all") else [model(xd)]
    pred = outs[-1].float().cpu().squeeze(1).numpy()
    xs = x.squeeze(1).numpy()

    fig = _figure(5.0, 3.6)
    ax = fig.add_axes((0.1, 0.12, 0.87, 0.8))
    if len(outs) > 1:  # contributions v_j h_j(x) of the last hidden layer
        v = model.layers[-1].weight.detach().float().cpu()[0]  # (hidden,)
        contrib = (outs[-2].float().cpu() * v).numpy()  # (300, hidden)
        ax.plot(xs, contrib, color="tab:gray", linewidth=0.6, alpha=0.45)
    pts_x = data.x_train.cpu()[:max_points, 0].numpy()
    pts_y = data.y_train.cpu()[:max_points, 0].numpy()
    ax.scatter(pts_x, pts_y, s=4, color="tab:blue", alpha=0.35, label="training data")
    if data.target_fn is not None:
        ax.plot(xs, data.target_fn(x).squeeze(1).numpy(), "k--", linewidth=1.2, label="target")
    ax.plot(xs, pred, color="tab:red", linewidth=2.0, label="network")
    ax.plot([], [], color="tab:gray", linewidth=0.6, label="hidden-unit contributions")
    ax.set_ylim(-1.6, 1.6)
    ax.set_title(f"{data.name}: output = sum of hidden-unit contributions + bias", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    ax.tick_params(labelsize=7)
    return _to_rgb(fig)


def curves_png(rows: list[dict[str, float]]) -> bytes:
    """PNG bytes of the loss curves (train, val) and, for classification, the accuracy curves,
    per epoch: the run's story for people who do not open TensorBoard."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    has_acc = any(r.get("val_accuracy") not in (None, "") for r in rows)
    fig = _figure(9.0 if has_acc else 4.8, 3.6)
    epochs = [int(r["epoch"]) for r in rows]
    panels = [("loss", ("train_loss", "val_loss"))] + ([("accuracy", ("train_accuracy", "val_accuracy"))]
                                                      if has_acc else [])
    for i, (title, keys) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key in keys:
            ax.plot(epochs, [float(r[key]) for r in rows], label=key.split("_")[0])
        ax.set_xlabel("epoch")
        ax.set_title(title)
        values = [float(r[k]) for r in rows for k in keys]
        if title == "loss" and min(values) > 0 and max(values) > 10 * min(values):  # log only when it spans decades
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()
