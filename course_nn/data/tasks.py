"""The trainer's tasks as in-memory tensors (see the package docstring for shapes)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from course_nn.choices import CLASSIFICATION_2D, IMAGE_TASKS, REGRESSION_1D, TASKS  # noqa: F401 - course_nn.data exports them
from course_nn.errors import UsageError

# the task names live in course_nn.choices (torch-free, so --help lists them without importing torch)

#: Default sizes of the synthetic tasks (train, validation). The 2-D tasks get more training points:
#: the tight inner turns of the spiral need them to reach ≥ 97% validation accuracy reliably.
SYNTHETIC_SIZES = {"classification": (2000, 1000), "regression": (1000, 1000)}
#: Standard deviation of the noise added to the 1-D regression targets.
REGRESSION_NOISE = 0.05


@dataclass
class TaskData:
    """One task's data. ``kind`` is "classification" or "regression"; ``target_fn`` is the clean
    1-D function (regression tasks only), used to draw the ``fit`` image."""

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    num_outputs: int
    target_fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    @property
    def num_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def is_classification(self) -> bool:
        return self.kind == "classification"

    def to(self, device: torch.device) -> TaskData:
        """The same data with every tensor on ``device``."""
        return TaskData(
            self.name, self.kind, self.x_train.to(device), self.y_train.to(device),
            self.x_val.to(device), self.y_val.to(device), self.num_outputs, self.target_fn,
        )


# ----------------------------------------------------------------------------- 2-D classification


def spiral(n: int, gen: torch.Generator, noise: float = 0.02) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spiral arms. For t ~ U(0, 1): radius t, angle 3.5π t (+π for class 1),
    plus Gaussian noise of std ``noise``."""
    y = torch.randint(0, 2, (n,), generator=gen)
    t = torch.rand(n, generator=gen)
    angle = 3.5 * math.pi * t + math.pi * y
    x = torch.stack([t * torch.sin(angle), t * torch.cos(angle)], dim=1)
    return x + noise * torch.randn(n, 2, generator=gen), y


def xor(n: int, gen: torch.Generator, margin: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in the four quadrants of [-1, 1]²; class 1 where x₁·x₂ > 0. Points are pushed
    ``margin`` away from the axes so the classes are separable."""
    x = torch.rand(n, 2, generator=gen) * 2 - 1
    x = x + margin * torch.sign(x)
    return x, (x[:, 0] * x[:, 1] > 0).long()


def circles(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 1 inside the disc of radius 0.5, class 0 on the ring 0.7 < r < 1."""
    y = torch.randint(0, 2, (n,), generator=gen)
    u = torch.rand(n, generator=gen)
    radius = torch.where(y == 1, 0.5 * u.sqrt(), 0.7 + 0.3 * u)
    angle = 2 * math.pi * torch.rand(n, generator=gen)
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1), y


# ----------------------------------------------------------------------------- 1-D regression


def _sine(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(math.pi * x)


def _step(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _bump(x: torch.Tensor) -> torch.Tensor:
    # a "tower": two steps, up at -0.4 and down at 0.4 (the lecture's step-and-ReLU design exercise)
    return ((x > -0.4) & (x < 0.4)).to(x.dtype)


FUNCTIONS_1D: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"sine": _sine, "step": _step, "bump": _bump}


def regression(name: str, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ U(-1, 1) (N, 1); y = f(x) + noise (N, 1)."""
    x = torch.rand(n, 1, generator=gen) * 2 - 1
    return x, FUNCTIONS_1D[name](x) + REGRESSION_NOISE * torch.randn(n, 1, generator=gen)


def synthetic(name: str, seed: int, n_train: int | None, n_val: int | None) -> TaskData:
    """A synthetic task generated from ``seed`` (the same seed gives the same points)."""
    default_train, default_val = SYNTHETIC_SIZES["classification" if name in CLASSIFICATION_2D else "regression"]
    n_train = n_train or default_train
    n_val = n_val or default_val
    gen = torch.Generator().manual_seed(seed)
    if name in CLASSIFICATION_2D:
        make = {"spiral": spiral, "xor": xor, "circles": circles}[name]
        x, y = make(n_train + n_val, gen)
        return TaskData(name, "classification", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 2)
    x, y = regression(name, n_train + n_val, gen)
    return TaskData(name, "regression", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 1, FUNCTIONS_1D[name])


# ----------------------------------------------------------------------------- MNIST


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the MNIST training set (on [0, 1])
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def mnist(name: str, data_dir: Path, download: bool, n_train: int | None, n_val: int | None) -> TaskData:
    """MNIST or FashionMNIST through torchvision's own loaders (train split / test split as val).

    torchvision reads the raw IDX files from ``<data_dir>/MNIST/raw/`` (``FashionMNIST/raw/``);
    it downloads them only when ``download`` is True.
    """
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    raw = Path(data_dir) / cls.__name__ / "raw"
    if Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {data_dir} is a file; pass the folder that holds {cls.__name__}/raw/")
    before = _snapshot(Path(data_dir), cls.__name__)
    try:
        train = cls(str(data_dir), train=True, download=download)
        val = cls(str(data_dir), train=False, download=download)
    except (RuntimeError, OSError) as err:  # OSError: the folder cannot be created or read
        if download or isinstance(err, OSError):
            _remove_new(Path(data_dir), cls.__name__, before)  # no empty folders or half files left behind
            raise UsageError(_download_failed(cls, raw, err)) from None
        missing = [f for f in RAW_FILES if not (raw / f).is_file()]
        raise UsageError(
            f"{cls.__name__} not found: looked in {raw} for {', '.join(missing)}; "
            f"add --download to fetch it, or point --data-dir at a folder that holds {cls.__name__}/raw/"
        ) from err

    def prepare(ds, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = ds.data, ds.targets
        if limit:
            x, y = x[:limit], y[:limit]
        x = (x.reshape(len(x), -1).float() / 255 - MNIST_MEAN) / MNIST_STD
        return x, y.long()

    x_train, y_train = prepare(train, n_train)
    x_val, y_val = prepare(val, n_val)
    return TaskData(name, "classification", x_train, y_train, x_val, y_val, 10)


def _snapshot(data_dir: Path, folder: str) -> set[Path] | Path:
    """What exists under ``data_dir/folder`` before a download, or, when ``data_dir`` does not
    exist yet, the topmost folder the download will create."""
    if not data_dir.is_dir():
        top = data_dir
        while not top.parent.exists() and top.parent != top:
            top = top.parent
        return top
    return {data_dir / folder} | set((data_dir / folder).rglob("*")) if (data_dir / folder).exists() else set()


def _remove_new(data_dir: Path, folder: str, before: set[Path] | Path) -> None:
    """Remove what a failed download created: the folders it made and the files it left."""
    import shutil

    if isinstance(before, Path):
        shutil.rmtree(before, ignore_errors=True)
        return
    root = data_dir / folder
    if root not in before:
        shutil.rmtree(root, ignore_errors=True)
        return
    for p in sorted(root.rglob("*"), reverse=True):  # files before their folders
        if p not in before:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _download_failed(cls, raw: Path, err: BaseException) -> str:
    """One line: why torchvision could not download, and how to put the files there by hand."""
    text = str(err)
    reasons = [line.strip() for line in text.splitlines()[1:] if line.strip() and not line.startswith("Tried ")]
    reason = reasons[0] if reasons else (text.strip().splitlines()[0] if text.strip() else type(err).__name__)
    if isinstance(err, OSError):
        reason = f"{err.strerror or err}"
    offline = any(k in text.lower() for k in ("urlopen", "name resolution", "network", "connection", "timed out"))
    mirror = getattr(cls, "mirrors", [""])[0]
    files = ", ".join(name for name, _ in getattr(cls, "resources", []))
    why = f"no network? ({reason})" if offline else f"({reason})"
    return (f"could not download {cls.__name__} into {raw}: {why}; on a machine with internet, fetch {files} "
            f"from {mirror} and put them into {raw}/, then run again without --download")


def load_task(
    name: str,
    *,
    seed: int = 0,
    n_train: int | None = None,
    n_val: int | None = None,
    data_dir: str | Path = "data",
    download: bool = False,
) -> TaskData:
    """Load a task by name (one of TASKS). ``n_train``/``n_val`` set the synthetic sizes, or cap
    MNIST's. Unknown names and missing MNIST files raise UsageError."""
    if name not in TASKS:
        raise UsageError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}")
    if name in IMAGE_TASKS:
        return mnist(name, Path(data_dir), download, n_train, n_val)
    return synthetic(name, seed, n_train, n_val)
