"""A notebook's training and trace cells: the student's own code at work, pictures inline.

``train`` runs the reference trainer (`course-nn train`) with the hw1 Functions this kernel ran;
``train_mlp`` trains the hw2 ``MLP`` this kernel ran with its own ``train_epoch`` and ``sgd_step``;
``trace`` draws `course-nn trace`'s picture. Each logs to ``runs/`` for TensorBoard, and a failure
in the student's code is one line naming it, not a traceback.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from course_nn.errors import CourseError
from course_nn.notebook import kernel


def show_png(data: bytes) -> None:
    """A PNG inline in the notebook (or nothing outside IPython)."""
    try:
        from IPython.display import Image, display
    except ImportError:
        return
    display(Image(data=data))


def show_rgb(rgb) -> None:
    """An RGB array (H, W, 3) inline, as PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(rgb.shape[1] / 100, rgb.shape[0] / 100), dpi=100)
    fig.figimage(rgb)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    show_png(buf.getvalue())


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """These networks are tiny: torch's thread pool only fights other work for the cores (a spiral run
    took over 10x longer with 2 threads than with 1 on a busy 2-core machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _plain(err: BaseException, path: Path, a) -> str:
    """The trainer's and trace's one line, told about the notebook's cells instead of a temp file."""
    text = str(err).replace(f" in {path}", "").replace(str(path), a.submission)
    return text.replace("; implement it or use --impl solutions", ": implement it in its graded cell")


def _needs(a, names: set[str], what: str) -> None:
    missing = sorted(names - {t.name for t in a.tasks})
    if missing:
        raise CourseError(f"{what} needs {', '.join(missing)}, which {a.name} does not have")


def train(task: str = "spiral", **options) -> None:
    """Train `course-nn train`'s network (``options``: its TrainConfig fields, e.g. epochs=50,
    hidden="32,32", activation="sigmoid") with the Functions this kernel ran; print its summary line."""
    with tempfile.TemporaryDirectory(prefix="course-nn-") as work:  # the file the kernel ran, while it is used
        _train(Path(work), task, options)


def _train(work: Path, task: str, options: dict) -> None:
    from course_nn.impl import REQUIRED
    from course_nn.train.trainer import TrainConfig
    from course_nn.train.trainer import train as run_training

    path = None
    try:
        a = kernel.current()
        _needs(a, set(REQUIRED), "course.train")
        path, code = kernel.ran_file(a, work)
        waiting = sorted(set(REQUIRED) & set(code.missing))
        if waiting:
            raise CourseError(f"run the graded cells of {', '.join(waiting)} first: the network is built from them")
        with _one_thread():
            summary = run_training(TrainConfig(task=task, impl=str(path), logdir=options.pop("logdir", "runs"),
                                               quiet=True, **options))
    except CourseError as err:
        kernel.say(f"training stopped: {_plain(err, path, a) if path else err}")
        return
    line = (f"{summary['task']}: {summary['epochs']} epochs in {summary['seconds']:.1f} s on {summary['device']}, "
            f"train loss {summary['train_loss']:.4f}, val loss {summary['val_loss']:.4f}")
    if "val_accuracy" in summary:
        line += f", val accuracy {100 * summary['val_accuracy']:.2f}%"
    print(f"{line}; TensorBoard run: {summary['run_dir']}")
    curves = Path(summary["run_dir"]) / "curves.png"
    if curves.is_file():
        show_png(curves.read_bytes())
    _show_trained(path, summary)


def _show_trained(path: Path, summary: dict) -> None:
    """The decision boundary (2-D tasks) or the fit (1-D) of the trained network, from its checkpoint."""
    from course_nn.data import CLASSIFICATION_2D, REGRESSION_1D, load_task
    from course_nn.impl import load_functions
    from course_nn.train import checkpoint, plots
    from course_nn.train.model import build_network, parse_hidden

    if summary["task"] not in CLASSIFICATION_2D + REGRESSION_1D:
        return
    data = load_task(summary["task"], seed=summary["seed"])
    hidden = parse_hidden(summary["hidden"]) if summary["hidden"] else []
    model = build_network(load_functions(str(path)), summary["model"], data.num_inputs, data.num_outputs, hidden,
                          summary["activation"], seed=summary["seed"] + 1)
    model.load_state_dict(checkpoint.load(summary["checkpoint"])["model"])
    model.eval()
    show_rgb(plots.decision_boundary(model, data) if data.is_classification else plots.fit(model, data))


def _student_line(err: BaseException, path: Path) -> str:
    from course_nn.grading.child.runner import describe_exception

    if isinstance(err, NotImplementedError):
        return f"not implemented: {err}"
    return describe_exception(err, str(path))


def train_mlp(hidden: tuple[int, ...] = (64, 64), activation: str = "relu", epochs: int = 30, lr: float = 0.3,
              batch_size: int = 16, seed: int = 0, logdir: str = "runs") -> None:
    """Train the hw2 ``MLP`` this kernel ran, on the spiral, with its ``train_epoch`` and ``sgd_step``
    and cross-entropy; curves and the decision boundary inline, scalars and the picture in TensorBoard."""
    with tempfile.TemporaryDirectory(prefix="course-nn-") as work:
        _train_mlp(Path(work), hidden, activation, epochs, lr, batch_size, seed, logdir)


def _train_mlp(work: Path, hidden: tuple[int, ...], activation: str, epochs: int, lr: float, batch_size: int,
               seed: int, logdir: str) -> None:
    import torch
    import torch.nn.functional as F

    from course_nn.data import load_task
    from course_nn.handout.notebook import MLP_TASKS
    from course_nn.impl import load_module, torch_functions
    from course_nn.train import plots

    try:
        a = kernel.current()
        _needs(a, MLP_TASKS, "course.train_mlp")
        path, code = kernel.ran_file(a, work)
        waiting = sorted(MLP_TASKS & set(code.missing))
        if waiting:
            raise CourseError(f"run the graded cells of {', '.join(waiting)} first")
        module = load_module(path)
    except CourseError as err:
        kernel.say(f"training stopped: {err}")
        return
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = load_task("spiral", seed=seed).to(device)
    gen = torch.Generator().manual_seed(seed + 2)
    rows: list[dict] = []
    started = time.perf_counter()
    try:
        with _one_thread():
            torch.manual_seed(seed + 1)
            functions = getattr(module, "TorchFunctions", None) or torch_functions()
            model = module.MLP([data.num_inputs, *hidden, data.num_outputs], activation, functions).to(device)
            for epoch in range(1, epochs + 1):
                order = torch.randperm(len(data.x_train), generator=gen).to(device)
                batches = [(data.x_train[i], data.y_train[i]) for i in order.split(batch_size)]
                loss = float(module.train_epoch(model, batches, F.cross_entropy, lr))
                rows.append({"epoch": epoch, "train_loss": loss, **_evaluate(model, data),
                             "seconds": time.perf_counter() - started})
    except Exception as err:  # noqa: BLE001 - the student's code: one line naming it
        kernel.say(f"training stopped: {_student_line(err, path)}")
        return
    boundary = plots.decision_boundary(model, data)
    run_dir = _log_mlp_run(Path(logdir), rows, boundary)
    last = rows[-1]
    print(f"spiral: {epochs} epochs in {last['seconds']:.1f} s on {device}, train loss {last['train_loss']:.4f}, "
          f"val loss {last['val_loss']:.4f}, val accuracy {100 * last['val_accuracy']:.2f}%; "
          f"TensorBoard run: {run_dir}")
    show_png(plots.curves_png(rows))
    show_rgb(boundary)


def _evaluate(model, data) -> dict[str, float]:
    """Validation loss and train/validation accuracy of a classifier, without gradients."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        val = model(data.x_val)
        train = model(data.x_train)
    return {"val_loss": float(F.cross_entropy(val, data.y_val)),
            "train_accuracy": float((train.argmax(1) == data.y_train).float().mean()),
            "val_accuracy": float((val.argmax(1) == data.y_val).float().mean())}


#: metrics row key -> TensorBoard tag (the trainer's tags, so runs compare in one dashboard)
_TAGS = {"train_loss": "loss/train", "val_loss": "loss/val", "train_accuracy": "accuracy/train",
         "val_accuracy": "accuracy/val"}


def _log_mlp_run(logdir: Path, rows: list[dict], boundary) -> Path:
    """A TensorBoard run (runs/mlp-notebook, -2, ...) with the curves and the decision boundary."""
    from torch.utils.tensorboard import SummaryWriter

    run, k = logdir / "mlp-notebook", 1
    while run.exists():
        k += 1
        run = logdir / f"mlp-notebook-{k}"
    writer = SummaryWriter(str(run))
    try:
        for r in rows:
            for key, tag in _TAGS.items():
                writer.add_scalar(tag, r[key], r["epoch"])
        writer.add_image("decision_boundary", boundary, rows[-1]["epoch"], dataformats="HWC")
    finally:
        writer.close()
    return run


def trace(net: str = "mlp", seed: int = 0, table: bool = False) -> None:
    """`course-nn trace` with the Functions this kernel ran: the picture inline, and what is red."""
    with tempfile.TemporaryDirectory(prefix="course-nn-") as work:
        _trace(Path(work), net, seed, table)


def _trace(work: Path, net: str, seed: int, table: bool) -> None:
    from course_nn.impl import load_functions
    from course_nn.trace import NETS, draw
    from course_nn.trace.nets import build_net
    from course_nn.trace.record import trace as run_trace

    try:
        a = kernel.current()
        if net not in NETS:
            raise CourseError(f"net={net!r} is not a network here; choose one of {', '.join(NETS)}")
        path, code = kernel.ran_file(a, work)
        if not code.cells:
            raise CourseError("run the graded cells first: the network is built from them")
        tr = run_trace(load_functions(str(path)), build_net(net, seed), "your Functions", seed)
    except CourseError as err:
        kernel.say(f"trace stopped: {err}")
        return
    if table:
        print(_plain(draw.table(tr), path, a) + "\n")
    print(_plain(draw.verdict(tr), path, a))
    show_png(draw.render(tr, "png"))
