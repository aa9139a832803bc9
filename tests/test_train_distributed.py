"""Issue 25 part 1: data-parallel training on torch.distributed. On the CPU with gloo, 2 processes
and 1 process with the same global batch follow the same loss curve and reach the same parameters
(the solutions' Functions and torch's), also across --resume; a Function that fails in one rank
or Ctrl-C ends every rank with one line and leaves no process and no half-written checkpoint."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from course_nn.train import checkpoint
from course_nn.train.trainer import TrainConfig, train

pytestmark = pytest.mark.slow  # every test starts processes that import torch

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "hw1_autograd" / "functions.py"
# 130 examples in batches of 16: the last global batch has 2, one per process (equal shares)
SETTINGS = dict(task="xor", n_train=130, n_val=64, batch_size=16, momentum=0.9, plot_every=100)


def flags(**settings) -> list[str]:
    names = {"n_train": "train-size", "n_val": "val-size"}
    return [x for k, v in settings.items() for x in (f"--{names.get(k, k.replace('_', '-'))}", str(v))]


def course_nn(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """`python -m course_nn ...` in its own session (so that the test can see what it leaves behind)."""
    return subprocess.run([sys.executable, "-m", "course_nn", *args], capture_output=True, text=True,
                          timeout=timeout, start_new_session=True, **kw)


def left_in_session(sid: int, wait: float = 30) -> list[int]:
    """Processes of session ``sid`` still running after up to ``wait`` seconds (zombies excluded)."""
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[3]) == sid:
                alive.append(int(pid))
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return checkpoint.load(path)["model"]


def losses(run: Path) -> list[float]:
    return [float(r["train_loss"]) for r in csv.DictReader((run / "metrics.csv").open())]


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)


def test_two_processes_follow_one_process_also_across_resume(tmp_path):
    one = train(TrainConfig(**SETTINGS, epochs=3, quiet=True, device="cpu", logdir=str(tmp_path), run_name="one"))
    done = course_nn("train", "--nproc", "2", "--device", "cpu", *flags(**SETTINGS), "--epochs", "2", "--quiet",
                     "--logdir", str(tmp_path), "--run-name", "two")
    assert done.returncode == 0, done.stderr
    assert "2 processes" in done.stdout and done.stderr == ""
    ckpt = tmp_path / "two" / "checkpoint.pt"
    assert checkpoint.load(ckpt)["step"] == 2 * 9  # 9 global batches an epoch, counted once
    resumed = course_nn("train", "--nproc", "2", "--device", "cpu", "--resume", str(ckpt), "--epochs", "3", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert_same(weights(ckpt), weights(Path(one["checkpoint"])))
    torch.testing.assert_close(torch.tensor(losses(tmp_path / "two")), torch.tensor(losses(tmp_path / "one")),
                               rtol=1e-5, atol=1e-6)
    assert losses(tmp_path / "one")[2] < losses(tmp_path / "one")[0]  # it learned: the comparison means something
    # only rank 0 wrote: one event file per launch, one metrics.csv, no temporary files
    names = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert [n for n in names if not n.startswith("events.out.tfevents.")] == ["checkpoint.pt", "curves.png",
                                                                                "metrics.csv"]
    assert len([n for n in names if n.startswith("events.out.tfevents.")]) == 2  # the first launch and the resume


def test_two_processes_with_torch_s_functions_reach_the_same_parameters(tmp_path):
    one = train(TrainConfig(**SETTINGS, impl="torch", epochs=2, quiet=True, device="cpu", logdir=str(tmp_path),
                            run_name="one"))
    done = course_nn("train", "--nproc", "2", "--device", "cpu", "--impl", "torch", *flags(**SETTINGS), "--epochs",
                     "2", "--quiet", "--logdir", str(tmp_path), "--run-name", "two")
    assert done.returncode == 0, done.stderr
    assert_same(weights(tmp_path / "two" / "checkpoint.pt"), weights(Path(one["checkpoint"])))


# Linear.backward raises in rank 1 only: at once (the setup's trial step) or after 40 calls (training)
ONE_RANK_FAILS = '''

import os as _os

_calls = {{"n": 0}}
_Linear = Linear


class Linear(_Linear):
    @staticmethod
    def backward(ctx, grad_output):
        _calls["n"] += 1
        if _os.environ.get("RANK") == "1" and _calls["n"] > {after}:
            raise ValueError("rank 1's planted mistake")
        return _Linear.backward(ctx, grad_output)
'''


@pytest.mark.parametrize("after", [0, 40], ids=["during-setup", "during-training"])
def test_a_function_failing_in_one_rank_stops_every_rank_with_one_line(tmp_path, after):
    student = tmp_path / "functions.py"
    student.write_text(SOLUTION.read_text() + ONE_RANK_FAILS.format(after=after))
    proc = subprocess.Popen([sys.executable, "-m", "course_nn", "train", "--nproc", "2", "--device", "cpu",
                             "--impl", str(student), *flags(**SETTINGS), "--epochs", "50", "--quiet",
                             "--logdir", str(tmp_path), "--run-name", "bad"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=600)  # a hang fails here
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, err
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "rank 1 of 2: Linear.backward raised ValueError: rank 1's planted mistake" in err
    assert str(student) in err and "every other process was stopped" in err
    assert left_in_session(proc.pid) == []
    ckpt = tmp_path / "bad" / "checkpoint.pt"
    if after:  # training had started: the last finished epoch's checkpoint is whole
        assert checkpoint.load(ckpt)["epoch"] >= 0
        assert not [p for p in (tmp_path / "bad").iterdir() if p.name.endswith(".tmp")]
    else:  # found in the trial step, before the run folder exists
        assert not (tmp_path / "bad").exists()


def test_ctrl_c_stops_every_rank_keeps_the_checkpoint_and_says_how_to_resume(tmp_path):
    ckpt = tmp_path / "int" / "checkpoint.pt"
    proc = subprocess.Popen([sys.executable, "-m", "course_nn", "train", "--nproc", "2", "--device", "cpu",
                             "--epochs", "100000", "--train-size", "64", "--val-size", "32", "--plot-every", "100000",
                             "--quiet", "--logdir", str(tmp_path), "--run-name", "int"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file() and checkpoint.load(ckpt)["epoch"] >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does: every process of the group
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "interrupted during epoch" in err and f"--resume {ckpt}" in err and "--nproc 2" in err
    assert left_in_session(proc.pid) == []
    assert checkpoint.load(ckpt)["epoch"] >= 2
    assert not [p for p in ckpt.parent.iterdir() if p.name.endswith(".tmp")]


def test_each_rank_of_a_torchrun_job_runs_the_cli(tmp_path):
    """What torchrun does (RANK, WORLD_SIZE, MASTER_ADDR/PORT in each process's environment, then
    `python -m course_nn train ...`), started by the same elastic agent on the loopback rendezvous."""
    import tempfile

    from course_nn.train.launch import run_ranks

    argv = ["train", "--device", "cpu", *flags(**SETTINGS), "--epochs", "1", "--quiet", "--logdir", str(tmp_path),
            "--run-name", "torchrun"]
    with tempfile.TemporaryDirectory() as folder:
        codes = run_ranks(2, _cli, (argv,), Path(folder))
    assert codes == {0: 0, 1: 0}
    one = train(TrainConfig(**SETTINGS, epochs=1, quiet=True, device="cpu", logdir=str(tmp_path), run_name="one"))
    assert_same(weights(tmp_path / "torchrun" / "checkpoint.pt"), weights(Path(one["checkpoint"])))


def _cli(argv: list[str]) -> int:
    from course_nn import cli

    return cli.main(argv)


@pytest.mark.parametrize(("args", "words"), [
    (["--nproc", "2", "--batch-size", "15"], "--batch-size 15 does not split evenly over 2 processes"),
    (["--nproc", "2", "--device", "cuda"], "CUDA"),
])
def test_bad_distributed_settings_are_one_line_before_any_process_starts(tmp_path, args, words):
    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    done = course_nn("train", *args, "--epochs", "1", "--quiet", "--logdir", str(tmp_path / "runs"), timeout=120)
    assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
def test_two_gpus_with_nccl_follow_one_gpu(tmp_path):
    one = train(TrainConfig(**SETTINGS, epochs=2, quiet=True, device="cuda", logdir=str(tmp_path), run_name="one"))
    done = course_nn("train", "--nproc", "2", "--device", "cuda", *flags(**SETTINGS), "--epochs", "2", "--quiet",
                     "--logdir", str(tmp_path), "--run-name", "two")
    assert done.returncode == 0, done.stderr
    assert "cuda" in done.stdout and "2 processes" in done.stdout
    assert_same(weights(tmp_path / "two" / "checkpoint.pt"), weights(Path(one["checkpoint"])))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_more_processes_than_gpus_is_one_line(tmp_path):
    n = torch.cuda.device_count() + 1
    done = course_nn("train", "--nproc", str(n), "--device", "cuda", "--batch-size", str(16 * n), "--epochs", "1",
                     "--quiet", "--logdir", str(tmp_path / "runs"))
    assert done.returncode == 2 and "one GPU per process" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_stop_request_while_the_rank_exits_prints_no_traceback():
    """The launcher stops the other ranks when one fails: a SIGTERM that lands in an exit hook
    (torch's own run late at exit) must not print a KeyboardInterrupt traceback beside the one line."""
    code = textwrap.dedent("""
        import atexit, os, signal, weakref
        import torch  # noqa: F401  (torch's exit hooks are registered first, as in a real rank)
        from course_nn.train import distributed
        class Held: pass
        held = Held()
        weakref.finalize(held, lambda: os.kill(os.getpid(), signal.SIGTERM))  # an exit hook stopped mid-way
        signal.signal(signal.SIGTERM, distributed._stop_once)
        atexit.register(distributed._exiting)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stderr and "KeyboardInterrupt" not in run.stderr, run.stderr
