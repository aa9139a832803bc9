"""Issue 23 item 2: the trainer picks torch's intra-op threads from the model's size and the idle
cores (course_nn/train/threads.py). The counts are asserted, never a time."""

from __future__ import annotations

import pytest

from course_nn.train import threads
from course_nn.train.trainer import TrainConfig, train

SPIRAL = (2 * 64 + 64 * 64 + 64 * 2, 16)  # the default spiral MLP's weights, its batch
MNIST_LOGREG = (784 * 10, 64)
BIG = (784 * 1024 + 1024 * 1024 + 1024 * 10, 256)  # 784-1024-1024-10: 4.8e8 multiply-adds a step


@pytest.mark.parametrize(("model", "cores", "busy", "processes", "expected"), [
    (SPIRAL, 2, 0.0, 1, 1),  # tiny: one thread even on an idle machine
    (SPIRAL, 16, 0.0, 1, 1),
    (MNIST_LOGREG, 2, 0.0, 1, 1),
    ((784 * 256 + 256 * 256 + 256 * 10, 64), 2, 0.0, 1, 1),  # 1.7e7: not worth a second thread
    ((784 * 256 + 256 * 256 + 256 * 10, 256), 2, 0.0, 1, 2),  # 6.9e7: two
    (BIG, 2, 0.0, 1, 2),  # big: every idle core
    (BIG, 16, 0.0, 1, 15),  # 4.8e8 / 3e7: 15 of the 16
    (BIG, 2, 1.3, 1, 1),  # the other core is busy: one
    (BIG, 16, 9.5, 1, 7),  # 16 cores, load 9.5: the 7 idle ones
    (BIG, 16, 0.0, 4, 4),  # 4 processes share 16 cores
    (BIG, 2, 0.0, 4, 1),  # more processes than cores: never below one
    (SPIRAL, 16, 0.0, 4, 1),
])
def test_the_thread_count_follows_the_model_size_and_the_idle_cores(model, cores, busy, processes, expected):
    weights, batch = model
    assert threads.choose(weights, batch, cores=cores, processes=processes, busy=busy) == expected


def test_a_run_uses_the_chosen_count_and_threads_overrides_it(tmp_path):
    base = dict(task="xor", epochs=1, n_train=64, n_val=32, quiet=True, device="cpu", logdir=str(tmp_path))
    chosen = train(TrainConfig(**base, run_name="chosen"))
    assert chosen["threads"] == 1  # the 2-64-64-2 MLP, whatever the machine
    forced = train(TrainConfig(**base, run_name="forced", threads=2))
    assert forced["threads"] == 2
