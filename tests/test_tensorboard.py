"""The dashboards: read the event files back with TensorBoard's own reader, and serve them with a
real TensorBoard server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from course_nn.train.trainer import TrainConfig, train

# every test here reads two small training runs (about 10 s to train) and one starts a real TensorBoard server
pytestmark = pytest.mark.slow

EVERYTHING = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0, "compressedHistograms": 0, "audio": 0}
EPOCHS = 6


def accumulator(run_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance=EVERYTHING)
    acc.Reload()
    return acc


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """One 2-D classification run and one 1-D regression run, pictures every 2 epochs."""
    logdir = tmp_path_factory.mktemp("runs")
    for task in ("xor", "sine"):
        train(TrainConfig(task=task, epochs=EPOCHS, n_train=256, n_val=128, batch_size=16, plot_every=2,
                          quiet=True, device="cpu", logdir=str(logdir), run_name=task))
    return logdir


def test_classification_tags_and_steps(runs):
    acc = accumulator(runs / "xor")
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"loss/train", "loss/val", "accuracy/train", "accuracy/val"}
    for tag in tags["scalars"]:
        assert [e.step for e in acc.Scalars(tag)] == list(range(1, EPOCHS + 1)), tag
    losses = [e.value for e in acc.Scalars("loss/train")]
    assert losses[-1] < losses[0]
    assert [e.value for e in acc.Scalars("accuracy/val")][-1] > 0.9
    for kind in ("weights", "grads"):
        for layer in ("layer1", "layer2", "layer3"):
            assert f"{kind}/{layer}" in tags["histograms"]
    assert [e.step for e in acc.Histograms("weights/layer1")] == [0, 2, 4, 6]
    assert [e.step for e in acc.Histograms("grads/layer3")] == [2, 4, 6]  # no gradient before training
    assert tags["images"] == ["decision_boundary"]
    images = acc.Images("decision_boundary")
    assert [e.step for e in images] == [0, 2, 4, 6]  # refreshed during training
    assert images[-1].encoded_image_string.startswith(b"\x89PNG") and images[-1].width > 100
    assert images[0].encoded_image_string != images[-1].encoded_image_string


def test_regression_tags(runs):
    acc = accumulator(runs / "sine")
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"loss/train", "loss/val"}  # no accuracy for regression
    assert tags["images"] == ["fit"]
    losses = [e.value for e in acc.Scalars("loss/val")]
    assert losses[-1] < losses[0]


def test_hparams_live_in_the_run_itself(runs):
    for run in ("xor", "sine"):
        assert [p.is_dir() for p in (runs / run).iterdir()] == [False] * len(list((runs / run).iterdir()))
        content = accumulator(runs / run).PluginTagToContent("hparams")
        assert {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"} <= set(content)
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(
        accumulator(runs / "xor").PluginTagToContent("hparams")["_hparams_/experiment"])
    metrics = {m.name.tag for m in data.experiment.metric_infos}
    assert {"loss/train", "loss/val", "accuracy/val"} <= metrics
    assert {h.name for h in data.experiment.hparam_infos} >= {"task", "impl", "lr", "hidden", "activation"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tensorboard_command(logdir: Path, port: int) -> list[str]:
    exe = Path(sys.executable).with_name("tensorboard")
    base = [str(exe)] if exe.is_file() else [sys.executable, "-m", "tensorboard.main"]
    return [*base, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port), "--load_fast", "false"]


def test_a_real_tensorboard_serves_the_run(runs):
    port = _free_port()
    proc = subprocess.Popen(_tensorboard_command(runs, port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags", timeout=5) as r:
                    served = json.load(r)
                if "loss/train" in served.get("xor", {}):
                    break
            except OSError:
                pass
            time.sleep(0.5)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert served is not None, proc.stderr.read().decode()[-2000:]
    assert "loss/train" in served["xor"] and "accuracy/val" in served["xor"]
    assert "loss/train" in served["sine"]
