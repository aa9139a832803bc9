"""Issue 23 item 12: `course-nn train --hw2 mlp.py` trains a student's own hw2 MLP with their
train_epoch and the sgd_step it calls, with the usual run folder, and stops on their mistakes with
one line naming their function."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from course_nn import cli, paths

SOLUTION = paths.repo_root() / "solutions" / "hw2_mlp" / "mlp.py"
STUBS = paths.repo_root() / "assignments" / "hw2_mlp" / "mlp.py"
HW1_BASE = Path(__file__).resolve().parent / "submissions" / "hw1" / "correct_base.py"
HW1_MISTAKES = Path(__file__).resolve().parent / "submissions" / "hw1"
SMALL = ["--task", "xor", "--train-size", "128", "--val-size", "64", "--quiet"]


def main(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(["train", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def student(tmp_path: Path, extra: str = "", base: Path = SOLUTION) -> Path:
    """The reference mlp.py with ``extra`` appended (its definitions replace the reference's)."""
    path = tmp_path / "mlp.py"
    path.write_text(base.read_text() + "\n\n" + extra)
    return path


def test_the_reference_mlp_trains_with_its_own_loop_and_a_run_folder(tmp_path, capsys):
    rc, out, err = main(capsys, "--hw2", str(SOLUTION), "--epochs", "4", "--logdir", str(tmp_path), *SMALL)
    assert rc == 0, err
    run = tmp_path / "xor-hw2-hw2_mlp-mlp"
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])  # their sgd_step moved the weights
    assert float(rows[-1]["val_accuracy"]) > 0.8
    assert (run / "checkpoint.pt").is_file() and list(run.glob("events.out.tfevents.*"))
    assert "val accuracy" in out


def test_a_student_mlp_built_from_their_hw1_functions(tmp_path, capsys):
    hw1 = tmp_path / "functions.py"
    hw1.write_text(HW1_BASE.read_text())
    rc, _, err = main(capsys, "--hw2", str(SOLUTION), "--impl", str(hw1), "--epochs", "1",
                      "--logdir", str(tmp_path / "runs"), *SMALL)
    assert rc == 0, err
    hw1.write_text(HW1_BASE.read_text() + "\n\n" + (HW1_MISTAKES / "linear_backward_name_error.py").read_text())
    rc, _, err = main(capsys, "--hw2", str(SOLUTION), "--impl", str(hw1), "--epochs", "1",
                      "--logdir", str(tmp_path / "runs"), *SMALL)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "Linear.backward raised NameError" in err and str(hw1) in err


BROKEN = {
    "train_epoch raises": ("def train_epoch(model, batches, loss_fn, lr):\n"
                           "    raise ValueError('no batches today')\n",
                           "your train_epoch raised ValueError: no batches today ({path}:{line}"),
    "sgd_step raises": ("def sgd_step(parameters, lr):\n"
                        "    for p in parameters:\n"
                        "        p.data -= lr * p.grad.T\n",
                        "your sgd_step raised RuntimeError"),
    "forward raises": ("_forward = MLP.forward\n\n\n"
                       "def _broken(self, x):\n"
                       "    return _forward(self, x.t())\n\n\n"
                       "MLP.forward = _broken\n",
                       "your MLP.forward raised RuntimeError: mat1 and mat2 shapes cannot be multiplied"),
    "returns text": ("_epoch = train_epoch\n\n\n"
                     "def train_epoch(model, batches, loss_fn, lr):\n"
                     "    return str(_epoch(model, batches, loss_fn, lr))\n",
                     "your train_epoch returned str; it must return the mean of the batch losses as a Python float"),
    "never calls loss_fn": ("def train_epoch(model, batches, loss_fn, lr):\n"
                            "    return 0.0\n",
                            "your train_epoch never called loss_fn"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_student_file_stops_with_one_line_naming_their_function(tmp_path, capsys, case):
    extra, expected = BROKEN[case]
    path = student(tmp_path, extra)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "no batches today" in text) \
        if "{line}" in expected else 0
    rc, out, err = main(capsys, "--hw2", str(path), "--epochs", "2", "--logdir", str(tmp_path / "runs"), *SMALL)
    assert rc == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert expected.format(path=path, line=line) in err, err


def test_the_stubs_say_what_is_not_implemented(tmp_path, capsys):
    if not STUBS.is_file():
        pytest.skip("no assignments/ in this checkout")
    rc, _, err = main(capsys, "--hw2", str(STUBS), "--epochs", "1", "--logdir", str(tmp_path / "runs"), *SMALL)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "your MLP is not implemented yet" in err and str(STUBS) in err
    assert not (tmp_path / "runs").exists()  # found before the run folder is made


@pytest.mark.parametrize(("content", "args", "expected"), [
    ("import torch\n\n\nclass MLP(torch.nn.Module):\n    pass\n\n\ndef sgd_step(p, lr):\n    pass\n", [],
     "has no train_epoch; --hw2 trains your MLP with your sgd_step and train_epoch"),
    ("raise ImportError('nope')\n", [], "mlp.py:1: ImportError: nope"),
    (None, ["--momentum", "0.9"], "--momentum 0.9 with --hw2: your sgd_step does plain gradient descent"),
    ("folder", [], "is a folder; pass your hw2 mlp.py"),
])
def test_bad_hw2_input_is_one_line_exit_2(tmp_path, capsys, content, args, expected):
    if content == "folder":
        path = tmp_path / "hw2"
        path.mkdir()
    elif content is None:
        path = SOLUTION
    else:
        path = tmp_path / "mlp.py"
        path.write_text(content)
    rc, _, err = main(capsys, "--hw2", str(path), *args, "--epochs", "1", "--logdir", str(tmp_path / "runs"), *SMALL)
    assert rc == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "runs").exists()
