"""Issue 25 part 2 in the trainer: --features raw|quadratic. Logistic regression on the quadratic
features separates the circles where on the raw inputs it stays near chance, and the
decision_boundary image is drawn in the input plane for both (beside an MLP's learned boundary)."""

from __future__ import annotations

import pytest
import torch

from course_nn import cli
from course_nn.train import features
from course_nn.train.trainer import TrainConfig, train

pytestmark = pytest.mark.slow  # three short training runs


def test_quadratic_features_are_the_lecture_s():
    x = torch.tensor([[2.0, 3.0], [-1.0, 0.5]])
    assert torch.equal(features.apply("quadratic", x), torch.tensor([[2.0, 3.0, 4.0, 9.0, 6.0],
                                                                     [-1.0, 0.5, 1.0, 0.25, -0.5]]))
    assert features.describe("quadratic", 2) == "x1, x2, x1², x2², x1·x2"
    assert features.width("quadratic", 1) == 2 and torch.equal(features.apply("raw", x), x)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three runs of the handout's experiment C, shortened."""
    logdir = tmp_path_factory.mktemp("runs")
    out = {}
    for name, model, feats in (("line", "logreg", "raw"), ("by-hand", "logreg", "quadratic"), ("learned", "mlp", "raw")):
        out[name] = train(TrainConfig(task="circles", model=model, features=feats, epochs=25, n_train=600, n_val=600,
                                      plot_every=25, quiet=True, device="cpu", logdir=str(logdir), run_name=name))
    return logdir, out


def test_a_line_on_hand_made_features_separates_the_circles_a_line_on_the_inputs_does_not(runs):
    _, out = runs
    assert out["by-hand"]["val_accuracy"] >= 0.99
    assert out["line"]["val_accuracy"] <= 0.7  # near chance (the classes are about half and half)
    assert out["learned"]["val_accuracy"] >= 0.95
    assert out["by-hand"]["num_parameters"] == 5 * 2 + 2  # one Linear layer on 5 features
    assert out["by-hand"]["features"] == "quadratic" and out["line"]["features"] == "raw"


def test_every_boundary_is_drawn_in_the_input_plane(runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir, out = runs
    for name in out:
        acc = EventAccumulator(str(logdir / name), size_guidance={"images": 0})
        acc.Reload()
        images = acc.Images("decision_boundary")
        assert [e.step for e in images] == [0, 25] and images[-1].encoded_image_string.startswith(b"\x89PNG")
    # The picture's grid goes through the model as input-plane points: the quadratic logreg takes (x1, x2)
    from course_nn.impl import load_functions
    from course_nn.train import checkpoint
    from course_nn.train.model import build_network

    model = build_network(load_functions("solutions"), "logreg", 2, 2, [], "relu", 0, features="quadratic")
    model.load_state_dict(checkpoint.load(out["by-hand"]["checkpoint"])["model"])
    points = torch.tensor([[0.0, 0.0], [0.2, -0.1], [0.85, 0.0], [0.0, -0.9], [-0.6, 0.6]])
    assert model(points).argmax(1).tolist() == [1, 1, 0, 0, 0]  # inside the disc: 1; on the ring: 0


def test_hparams_and_the_default_run_name_say_which_features(tmp_path, capsys):
    rc = cli.main(["train", "--task", "circles", "--model", "logreg", "--features", "quadratic", "--epochs", "1",
                   "--train-size", "64", "--val-size", "32", "--logdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 0 and (tmp_path / "circles-logreg-quadratic-solutions" / "checkpoint.pt").is_file()
    assert "on circles (features quadratic)" in err.splitlines()[0]


@pytest.mark.parametrize(("args", "words"), [
    (["--task", "mnist", "--features", "quadratic"], "--features quadratic is for the 1-D and 2-D tasks"),
])
def test_features_that_cannot_work_are_one_line(tmp_path, capsys, args, words):
    rc = cli.main(["train", *args, "--quiet", "--logdir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_a_resumed_run_keeps_its_features(tmp_path, capsys):
    first = train(TrainConfig(task="circles", model="logreg", features="quadratic", epochs=1, n_train=64, n_val=32,
                              quiet=True, device="cpu", logdir=str(tmp_path), run_name="q"))
    rc = cli.main(["train", "--resume", first["checkpoint"], "--epochs", "2", "--features", "raw", "--quiet"])
    assert rc == 2 and "--features raw differs from the checkpoint's quadratic" in capsys.readouterr().err
    resumed = train(TrainConfig(resume=first["checkpoint"], epochs=2, quiet=True))
    assert resumed["features"] == "quadratic" and resumed["epochs"] == 2
