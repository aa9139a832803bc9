"""course_nn.data: synthetic tasks and torchvision's MNIST loader on a tiny IDX data set."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from course_nn.data import CLASSIFICATION_2D, REGRESSION_1D, load_task
from course_nn.errors import UsageError


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format MNIST ships in: magic 0x0000 08 <ndim>, big-endian
    int32 sizes, then the raw bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_tiny_mnist(root, folder: str = "MNIST", n_train: int = 64, n_test: int = 32, seed: int = 0) -> None:
    """<root>/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte, uncompressed, as torchvision
    0.29 looks for them. Each digit's images light up its own row band, so they are learnable."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label: 2 * label + 3, 4:24] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


@pytest.mark.parametrize("task", CLASSIFICATION_2D + REGRESSION_1D)
def test_synthetic_shapes_and_determinism(task):
    a = load_task(task, seed=3, n_train=50, n_val=20)
    b = load_task(task, seed=3, n_train=50, n_val=20)
    c = load_task(task, seed=4, n_train=50, n_val=20)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.x_train, c.x_train)
    assert a.x_train.shape == (50, 2 if task in CLASSIFICATION_2D else 1)
    assert a.x_val.shape[0] == 20
    if task in CLASSIFICATION_2D:
        assert a.y_train.dtype == torch.int64 and set(a.y_train.tolist()) <= {0, 1}
        assert a.num_outputs == 2
    else:
        assert a.y_train.shape == (50, 1) and a.y_train.dtype == torch.float32
        assert a.target_fn is not None


def test_unknown_task():
    with pytest.raises(UsageError, match="unknown task 'moons'"):
        load_task("moons")


@pytest.mark.parametrize("task,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_tiny_mnist_through_torchvision(tmp_path, task, folder):
    write_tiny_mnist(tmp_path, folder)
    data = load_task(task, data_dir=tmp_path)
    assert data.x_train.shape == (64, 784) and data.x_val.shape == (32, 784)
    assert data.y_train.dtype == torch.int64 and data.num_outputs == 10
    assert abs(float(data.x_train.mean())) < 3  # standardised, not raw bytes


def test_missing_mnist_says_where_and_what_to_do(tmp_path):
    with pytest.raises(UsageError) as info:
        load_task("mnist", data_dir=tmp_path / "empty")
    message = str(info.value)
    assert str(tmp_path / "empty" / "MNIST" / "raw") in message
    assert "--download" in message and "train-images-idx3-ubyte" in message


@pytest.mark.parametrize("download", [False, True])
def test_data_dir_that_is_a_file_is_a_usage_error(tmp_path, download):
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    with pytest.raises(UsageError, match=f"--data-dir {afile} is a file"):
        load_task("mnist", data_dir=afile, download=download)  # no network use: it fails before torchvision


@pytest.mark.parametrize("existing", [False, True])
def test_failed_download_gives_the_reason_and_removes_what_it_created(tmp_path, monkeypatch, existing):
    from urllib.error import URLError

    import torchvision.datasets.mnist as tv_mnist

    def offline(url, download_root, **kwargs):
        (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"half")  # a partial file
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", offline)
    if existing:
        (tmp_path / "data" / "MNIST" / "raw").mkdir(parents=True)
        (tmp_path / "data" / "MNIST" / "raw" / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError) as info:
        load_task("mnist", data_dir=tmp_path / "data", download=True)
    message = str(info.value)
    assert "no network" in message and "name resolution" in message  # the reason, not just a file name
    assert "put them into" in message and str(tmp_path / "data" / "MNIST" / "raw") in message
    assert "t10k-labels-idx1-ubyte.gz" in message
    if existing:  # what was there stays; what the download left goes
        assert sorted(p.name for p in (tmp_path / "data" / "MNIST" / "raw").iterdir()) == ["mine.txt"]
    else:
        assert not (tmp_path / "data").exists()
