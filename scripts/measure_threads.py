"""Time SGD steps of the trainer's networks with 1 and 2 intra-op threads (the measurement behind
course_nn/train/threads.py). Prints, per model: weights x batch, and for each thread count the
median ms per step over 1-second blocks (what a busy machine gives) and the fastest single step
(what a quiet one gives), with the load average. Run: python scripts/measure_threads.py [impl]"""

import os
import statistics
import sys
import time

import torch

from course_nn.impl import load_functions
from course_nn.train.model import build_network

MODELS = [((2, 64, 64, 2), 16), ((2, 64, 64, 2), 256), ((784, 10), 64), ((784, 64, 64, 10), 64),
          ((784, 256, 256, 10), 64), ((784, 256, 256, 10), 256), ((784, 1024, 1024, 10), 256)]


def main() -> None:
    fns = load_functions(sys.argv[1] if len(sys.argv) > 1 else "solutions")
    for sizes, batch in MODELS:
        model = build_network(fns, "mlp" if len(sizes) > 2 else "logreg", sizes[0], sizes[-1], list(sizes[1:-1]),
                              "relu", 0)
        weights = sum(w.numel() for _, w in model.layer_weights())
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x, y = torch.randn(batch, sizes[0]), torch.randint(0, sizes[-1], (batch,))

        def step() -> float:
            t0 = time.perf_counter()
            opt.zero_grad()
            model.loss(model(x), y, True).backward()
            opt.step()
            return time.perf_counter() - t0

        cells = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for _ in range(10):
                step()
            blocks, fastest = [], []
            for _ in range(3):
                times, t0 = [], time.perf_counter()
                while time.perf_counter() - t0 < 1.0:
                    times.append(step())
                blocks.append(statistics.median(times))
                fastest.append(min(times))
            cells.append(f"{threads} thread(s): median {1e3 * statistics.median(blocks):.2f} ms, "
                         f"fastest {1e3 * min(fastest):.2f} ms")
        print(f"{'-'.join(map(str, sizes))} batch {batch} (weights x batch {weights * batch:.1e}): "
              + "; ".join(cells) + f"; load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
