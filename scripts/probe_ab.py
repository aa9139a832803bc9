"""CPU of the hw1 probe on one grading's cases: an older checkout's child code against this one's, alternated
in one process (both loaded side by side), so the host's load hits both alike.

    python scripts/probe_ab.py OLD_CHECKOUT [PAIRS]

OLD_CHECKOUT is a tree of the package (e.g. ``git archive 6c0c463 | tar -x -C /tmp/before``); its probe is
imported by the child's own top-level names (probe_hw1, numdiff_watch, ...) from its grading/child folder.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

from course_nn import registry
from course_nn.grading import cases as case_lib
from course_nn.grading import engine
from course_nn.grading.child import runner

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = str(ROOT / "solutions" / "hw1_autograd" / "functions.py")


def main() -> None:
    old_tree, pairs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 30
    hw1 = registry.get("hw1")
    engine.warm_up(hw1)
    plug = engine.scoring_module(hw1)
    raw = plug.make_cases(hw1, case_lib.hidden_seed(5, "probe-ab"), False, ("cpu",), public_seed=engine.PUBLIC_SEED)
    sent = [c.sent() for cs in case_lib.issue(raw).values() for c in cs]
    module = runner.load_submission(SOLUTION, "_probe_ab_submission")
    torch.set_num_threads(1)
    sys.path.insert(0, str(old_tree / "course_nn" / "grading" / "child"))
    import probe_hw1 as old  # noqa: E402  the old checkout's, by its top-level name

    from course_nn.grading.child import probe_hw1 as new

    def run(probe) -> float:
        start = time.process_time()
        for case in sent:
            runner.run_case_guarded(probe, module, case, SOLUTION)
        return time.process_time() - start

    run(old), run(new)
    times = [(run(old), run(new)) for _ in range(pairs)]
    a, b = sorted(t[0] for t in times), sorted(t[1] for t in times)
    print(f"probe CPU per grading ({len(sent)} cases), {pairs} alternated pairs: old min {a[0] * 1e3:.1f} median "
          f"{statistics.median(a) * 1e3:.1f} ms; new min {b[0] * 1e3:.1f} median {statistics.median(b) * 1e3:.1f} ms; "
          f"new lower in {sum(n < o for o, n in times)} of {pairs}; median new/old "
          f"{statistics.median(n / o for o, n in times):.3f}")


if __name__ == "__main__":
    main()
