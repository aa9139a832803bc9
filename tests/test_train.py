"""The reference trainer: summary, resume determinism, atomic checkpoints, divergence, bad input,
torch vs solutions, MNIST through torchvision, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_data import write_tiny_mnist

from course_nn import cli
from course_nn.errors import CourseError
from course_nn.train import checkpoint, stopping
from course_nn.train.trainer import TrainConfig, train

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "hw1_autograd" / "functions.py"
SMALL = dict(n_train=128, n_val=64, batch_size=16, plot_every=100, quiet=True, device="cpu")


def small(tmp_path: Path, **kw) -> TrainConfig:
    return TrainConfig(**{**SMALL, "logdir": str(tmp_path / "runs"), **kw})


def scalars(run_dir: Path, tag: str) -> list[float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return [e.value for e in acc.Scalars(tag)]


def main(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = cli.main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_summary_has_the_pinned_keys(tmp_path):
    summary_path = tmp_path / "summary.json"
    train(small(tmp_path, epochs=3, run_name="s", summary=str(summary_path)))
    summary = json.loads(summary_path.read_text())
    for key in ("task", "impl", "device", "epochs", "train_loss", "val_loss", "val_accuracy", "seconds",
                "num_parameters"):
        assert key in summary, key
    assert summary["task"] == "spiral" and summary["impl"] == "solutions" and summary["device"] == "cpu"
    assert summary["epochs"] == 3
    assert summary["num_parameters"] == (2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2)
    state = checkpoint.load(tmp_path / "runs" / "s" / "checkpoint.pt")
    assert state["epoch"] == 3 and {"model", "optimizer", "torch_rng"} <= set(state)  # the batch order: from seed and epoch


def test_cli_train_prints_one_result_line(tmp_path, capsys):
    rc, out, _ = main(["train", "--task", "sine", "--epochs", "2", "--train-size", "64", "--val-size", "32",
                       "--quiet", "--logdir", str(tmp_path)], capsys)
    assert rc == 0
    assert out.startswith("sine: 2 epochs") and "val loss" in out
    assert (tmp_path / "sine-mlp-solutions" / "checkpoint.pt").is_file()


def test_resume_ends_with_the_same_weights(tmp_path):
    kw = dict(momentum=0.9, task="xor")  # momentum: the optimizer's buffers must be restored too
    full = train(small(tmp_path, epochs=6, run_name="full", **kw))
    train(small(tmp_path, epochs=3, run_name="part", **kw))
    resumed = train(small(tmp_path, epochs=6, resume=str(tmp_path / "runs" / "part" / "checkpoint.pt")))
    assert resumed["epochs"] == 6 and resumed["run_dir"] == str(tmp_path / "runs" / "part")
    a = checkpoint.load(full["checkpoint"])["model"]
    b = checkpoint.load(resumed["checkpoint"])["model"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # the resumed run's curve continues at steps 4..6
    assert len(scalars(tmp_path / "runs" / "part", "loss/train")) == 6


def test_resume_rejects_a_changed_setting(tmp_path, capsys):
    train(small(tmp_path, epochs=1, run_name="r"))
    ckpt = str(tmp_path / "runs" / "r" / "checkpoint.pt")
    rc, _, err = main(["train", "--resume", ckpt, "--epochs", "2", "--lr", "0.01", "--quiet"], capsys)
    assert rc == 2 and "--lr 0.01 differs from the checkpoint's" in err
    rc, _, err = main(["train", "--resume", ckpt, "--epochs", "1", "--quiet"], capsys)
    assert rc == 2 and "already trained 1 epochs" in err


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    checkpoint.save(path, {"model": {"w": torch.ones(3)}, "epoch": 1})

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        checkpoint.save(path, {"model": {"w": torch.zeros(3)}, "epoch": 2})
    monkeypatch.undo()
    assert checkpoint.load(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]  # no temp file left behind


def test_non_finite_loss_stops_with_a_clear_message(tmp_path, capsys):
    rc, _, err = main(["train", "--lr", "1e6", "--epochs", "5", "--train-size", "128", "--val-size", "32",
                       "--quiet", "--logdir", str(tmp_path), "--run-name", "boom"], capsys)
    assert rc == 1
    assert len(err.strip().splitlines()) == 1
    assert "epoch 1, step" in err and "learning rate 1e+06" in err and "CrossEntropy" in err
    state = checkpoint.load(tmp_path / "boom" / "checkpoint.pt")
    assert state["epoch"] == 0 and all(torch.isfinite(t).all() for t in state["model"].values())


def test_torch_and_solutions_give_the_same_curve(tmp_path):
    runs = {}
    for impl in ("torch", "solutions"):
        train(small(tmp_path, impl=impl, task="xor", epochs=5, run_name=impl))
        runs[impl] = scalars(tmp_path / "runs" / impl, "loss/train") + scalars(tmp_path / "runs" / impl, "loss/val")
    assert runs["torch"][0] > runs["torch"][4]  # it learns
    torch.testing.assert_close(torch.tensor(runs["solutions"]), torch.tensor(runs["torch"]), rtol=1e-4, atol=1e-6)


STUB = '''
from torch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Linear.backward is not implemented yet")


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        return -logits.log_softmax(dim=1).gather(1, target.unsqueeze(1)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


Sigmoid = SquaredError = ReLU
'''


@pytest.mark.parametrize("case", ["task", "cuda", "import", "class", "mnist", "file"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    if case == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    student = tmp_path / "functions.py"
    if case == "import":
        student.write_text("import torch\n\n\nraise ValueError('oops')\n")
    if case == "class":
        student.write_text(STUB.replace("class CrossEntropy(", "class CrossEntropyy("))
    args, expected = {
        "task": (["--task", "moons"], "unknown task 'moons'"),
        "cuda": (["--device", "cuda"], "CUDA is not available"),
        "import": (["--impl", str(student)], f"{student}:4: ValueError: oops"),
        "class": (["--impl", str(student)], "has no class CrossEntropy"),
        "mnist": (["--task", "mnist", "--data-dir", str(tmp_path / "d")], f"looked in {tmp_path / 'd' / 'MNIST' / 'raw'}"),
        "file": (["--impl", str(tmp_path / "missing.py")], "no such file"),
    }[case]
    rc, _, err = main(["train", *args, "--quiet", "--logdir", str(tmp_path / "runs")], capsys)
    assert rc == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing written for bad input


def test_unimplemented_function_is_named(tmp_path, capsys):
    student = tmp_path / "functions.py"
    student.write_text(STUB)
    rc, _, err = main(["train", "--impl", str(student), "--quiet", "--logdir", str(tmp_path / "runs")], capsys)
    assert rc == 1
    assert f"CrossEntropy.backward is not implemented yet in {student}" in err  # the first backward to run
    assert len(err.strip().splitlines()) == 1


def test_assignment_stubs_are_reported(tmp_path):
    from course_nn.paths import assignments_dir

    if not (assignments_dir() / "hw1_autograd" / "functions.py").is_file():
        pytest.skip("no assignments/hw1_autograd/functions.py in this checkout")
    with pytest.raises(CourseError, match=r"^\w+\.(forward|backward) is not implemented yet"):
        train(small(tmp_path, impl="assignments", epochs=1))


def test_mnist_logreg_has_7850_parameters(tmp_path):
    write_tiny_mnist(tmp_path / "data")
    summary = train(TrainConfig(task="mnist", model="logreg", data_dir=str(tmp_path / "data"), epochs=2,
                                batch_size=16, quiet=True, device="cpu", logdir=str(tmp_path / "runs")))
    assert summary["num_parameters"] == 784 * 10 + 10 == 7850
    assert 0 <= summary["val_accuracy"] <= 1
    mlp = train(TrainConfig(task="mnist", hidden="32", data_dir=str(tmp_path / "data"), epochs=3, lr=0.05,
                            batch_size=16, quiet=True, device="cpu", logdir=str(tmp_path / "runs")))
    assert mlp["num_parameters"] == 784 * 32 + 32 + 32 * 10 + 10
    assert mlp["val_accuracy"] > 0.5  # the tiny digits are easy: each lights its own band of rows


def test_ctrl_c_keeps_a_checkpoint_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "runs" / "int"
    ckpt = run_dir / "checkpoint.pt"
    cmd = [sys.executable, "-m", "course_nn", "train", "--epochs", "100000", "--train-size", "32", "--val-size", "16",
           "--plot-every", "100000", "--quiet", "--logdir", str(tmp_path / "runs"), "--run-name", "int"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file() and checkpoint.load(ckpt)["epoch"] >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert f"--resume {ckpt}" in err and "interrupted during epoch" in err
    epoch = checkpoint.load(ckpt)["epoch"]
    assert epoch >= 2
    resumed = train(TrainConfig(resume=str(ckpt), epochs=epoch + 1, quiet=True))
    assert resumed["epochs"] == epoch + 1


def test_the_first_ctrl_c_waits_for_a_step_boundary_and_the_second_does_not():
    # a KeyboardInterrupt raised inside TensorBoard's writer queue left its thread asleep and
    # SummaryWriter.close() waiting for ever: the first Ctrl-C must only be recorded
    with stopping.deferred_ctrl_c():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here; nothing may be raised yet
        with pytest.raises(KeyboardInterrupt):
            stopping.check()
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C: at once, wherever the loop is
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    stopping.check()  # outside the block nothing is pending


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_same_code_path(tmp_path):
    cpu = train(small(tmp_path, epochs=2, device="cpu", run_name="cpu"))
    gpu = train(small(tmp_path, epochs=3, device="cuda", run_name="gpu"))
    assert gpu["device"].startswith("cuda")
    assert abs(scalars(tmp_path / "runs" / "gpu", "loss/train")[1] - cpu["train_loss"]) < 1e-3
    # a CUDA checkpoint resumes (its RNG states included)
    resumed = train(TrainConfig(resume=gpu["checkpoint"], epochs=4, device="cuda", quiet=True))
    assert resumed["epochs"] == 4 and resumed["device"].startswith("cuda")


SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / "hw1"


def planted(tmp_path: Path, mistake: str) -> Path:
    """functions.py in ``tmp_path``: tests/submissions/hw1/correct_base.py, then ``<mistake>.py``
    (whose class replaces the base's)."""
    student = tmp_path / "functions.py"
    student.write_text("\n\n".join((SUBMISSIONS / f"{name}.py").read_text() for name in ("correct_base", mistake)))
    return student


def test_transposed_weight_gradient_is_one_line_naming_weight(tmp_path, capsys):
    student = planted(tmp_path, "linear_weight_grad_transposed")
    rc, out, err = main(["train", "--impl", str(student), "--epochs", "1", "--hidden", "8", "--quiet",
                         "--logdir", str(tmp_path / "runs")], capsys)
    assert rc == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "Linear.backward returned a gradient for weight (index 1) of shape (8, 2), expected (2, 8)" in err
    assert "dJ/dW has W's shape (out, in): use grad_outputᵀ · x" in err and str(student) in err
    assert not (tmp_path / "runs").exists()  # caught by the probe, before a run folder exists


def test_exception_in_student_backward_names_function_and_line(tmp_path, capsys):
    student = planted(tmp_path, "linear_backward_name_error")
    rc, _, err = main(["train", "--impl", str(student), "--epochs", "1", "--quiet",
                       "--logdir", str(tmp_path / "runs")], capsys)
    line = next(n for n, text in enumerate(student.read_text().splitlines(), 1) if "undefined_name" in text)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "Linear.backward raised NameError: name 'undefined_name' is not defined" in err
    assert f"{student}:{line}: grad_b = grad_output.sum(dim=0) + undefined_name" in err


def test_bias_gradient_of_the_wrong_shape_gets_the_bias_hint(tmp_path, capsys):
    # (torch itself sums an unsummed (N, out) bias gradient, so the bug that fails is the wrong axis)
    student = planted(tmp_path, "linear_bias_summed_over_features")
    rc, _, err = main(["train", "--impl", str(student), "--epochs", "1", "--batch-size", "4", "--quiet",
                       "--logdir", str(tmp_path / "runs")], capsys)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "gradient for bias (index 2) of shape (4,), expected (2,)" in err
    assert "sum the bias gradient over the batch" in err


@pytest.mark.parametrize("hidden", ["0", "-4", "64,,64", "abc", "", "64,0"])
def test_bad_hidden_sizes_are_rejected(tmp_path, capsys, hidden):
    rc, out, err = main(["train", f"--hidden={hidden}", "--quiet", "--logdir", str(tmp_path / "runs")], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"--hidden {hidden!r}" in err and "--model logreg" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("case", ["logdir-file", "logdir-under-file", "summary-dir", "summary-under-file",
                                  "resume-dir", "resume-not-checkpoint", "resume-foreign-dict", "data-dir-file",
                                  "run-name-file", "resume-pickled-module", "impl-folder"])
def test_bad_paths_are_one_line_and_exit_2(tmp_path, capsys, case):
    afile, adir = tmp_path / "afile", tmp_path / "adir"
    afile.write_text("not a folder\n")
    adir.mkdir()
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": 1, "model": {}}, foreign)
    pickled = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), pickled)  # torch's error would advise weights_only=False
    (adir / "functions.py").write_text("")
    args, expected = {
        "logdir-file": (["--logdir", str(afile)], f"--logdir {afile}: {afile} is a file"),
        "logdir-under-file": (["--logdir", str(afile / "runs")], f"{afile} is a file"),
        "summary-dir": (["--summary", str(adir)], f"--summary {adir} is a folder"),
        "summary-under-file": (["--summary", str(afile / "s.json")], f"--summary {afile / 's.json'}: {afile} is a file"),
        "resume-dir": (["--resume", str(adir)], f"no checkpoint at {adir / 'checkpoint.pt'}"),
        "resume-not-checkpoint": (["--resume", str(afile)], "is not a checkpoint written by course-nn train"),
        "resume-pickled-module": (["--resume", str(pickled)], "is not a checkpoint written by course-nn train"),
        "impl-folder": (["--impl", str(adir)], f"--impl {adir} is a folder; pass the functions.py inside it"),
        "resume-foreign-dict": (["--resume", str(foreign)], "lacks what resuming needs"),
        "data-dir-file": (["--task", "mnist", "--data-dir", str(afile)], f"--data-dir {afile} is a file"),
        "run-name-file": (["--logdir", str(tmp_path), "--run-name", "afile"], f"{afile} is a file"),
    }[case]
    if "--logdir" not in args:
        args = [*args, "--logdir", str(tmp_path / "runs")]
    rc, out, err = main(["train", *args, "--epochs", "1", "--quiet"], capsys)
    assert rc == 2 and out == "", err
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "weights_only" not in err
    assert not (tmp_path / "runs").exists()


def test_read_only_logdir_is_a_usage_error(tmp_path, capsys, monkeypatch):
    from course_nn.train import config

    locked = tmp_path / "locked"
    locked.mkdir()
    # os.access stands in for a read-only folder (root could write into a chmod 555 one)
    monkeypatch.setattr(config.os, "access", lambda path, mode: Path(path) != locked)
    rc, _, err = main(["train", "--logdir", str(locked / "runs"), "--epochs", "1", "--quiet"], capsys)
    assert rc == 2 and f"cannot write in {locked} (permission denied)" in err
    assert len(err.strip().splitlines()) == 1 and not (locked / "runs").exists()


def test_help_explains_itself_with_examples(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "examples:" in out and "course-nn train --impl path/to/functions.py" in out
    assert "--hidden" in out and "positive" in out


def test_run_folder_holds_metrics_csv_and_curves_png_also_after_resume(tmp_path):
    import csv

    train(small(tmp_path, epochs=2, run_name="m"))
    run = tmp_path / "runs" / "m"
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "seconds"}
    assert scalars(run, "loss/val") == pytest.approx([float(r["val_loss"]) for r in rows])
    assert 0 <= float(rows[-1]["val_accuracy"]) <= 1 and float(rows[1]["seconds"]) >= float(rows[0]["seconds"])
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    train(small(tmp_path, epochs=3, resume=str(run / "checkpoint.pt")))
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]  # the earlier epochs are kept, none twice


def test_off_a_terminal_progress_is_plain_lines_not_bars(tmp_path):
    result = subprocess.run([sys.executable, "-m", "course_nn", "train", "--task", "sine", "--epochs", "3",
                             "--train-size", "64", "--val-size", "32", "--logdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # no carriage-return bar updates in a log file
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("training mlp on sine with --impl")
    assert "epoch 3/3: loss/train" in result.stderr and len(lines) <= 5


@pytest.mark.slow
def test_a_student_bundle_trains_its_own_functions_py(tmp_path):
    bundle = tmp_path / "hw1_autograd"
    bundle.mkdir()
    env = {**os.environ, "COURSE_NN_ROOT": str(bundle)}  # as if installed from the course's link: no solutions/
    env.pop("PYTHONPATH", None)
    empty = subprocess.run([sys.executable, "-m", "course_nn", "train", "--epochs", "1"], cwd=bundle, env=env,
                           capture_output=True, text=True, timeout=600)
    assert empty.returncode == 2 and "no functions.py in this folder" in empty.stderr
    (bundle / "functions.py").write_text(SOLUTION.read_text())
    result = subprocess.run([sys.executable, "-m", "course_nn", "train", "--task", "xor", "--epochs", "1",
                             "--train-size", "64", "--val-size", "32"], cwd=bundle, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert "--impl functions.py" in first and str(bundle / "functions.py") in first
    assert (bundle / "runs").is_dir()
