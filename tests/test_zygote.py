"""Class-scale grading forks each child from a zygote that has imported torch once. A forked child
must be graded exactly as a fresh interpreter is (the hostile submissions of tests/test_security.py
run in both modes too)."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, sandbox
from course_nn.grading.sandbox import zygote_client

SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
HW1 = registry.get("hw1")
HW2 = registry.get("hw2")


def planted(tmp_path: Path, hw: str, *mistakes: str) -> Path:
    folder = SUBMISSIONS / hw
    parts = [(folder / "correct_base.py").read_text(), *((folder / f"{m}.py").read_text() for m in mistakes)]
    path = tmp_path / ("functions.py" if hw == "hw1" else "mlp.py")
    path.write_text("\n\n".join(parts))
    return path


@pytest.mark.parametrize(("hw", "mistakes"), [
    ("hw1", ()),
    ("hw1", ("linear_bias_not_summed", "sigmoid_ignores_grad_output")),
    ("hw1", ("sigmoid_builtin_forward", "relu_grad_output_in_place")),
    ("hw1", ("cross_entropy_no_batch_mean", "square_tensor_on_ctx")),
    ("hw2", ()),
    ("hw2", ("count_parameters_without_biases", "collapse_linear_wrong_order")),
])
@pytest.mark.sandbox
def test_forked_children_score_exactly_like_fresh_ones(tmp_path, hw, mistakes):
    off = zygote_client._zygote_off(sandbox.containment())
    if off:  # not root: each child sets up its own user namespace from a fresh interpreter
        pytest.skip(off)
    a = registry.get(hw)
    path = planted(tmp_path, hw, *mistakes)
    fresh = engine.grade(path, a, seed=13)
    forked = engine.grade(path, a, seed=13, zygote=True, run_id=fresh.run_id)
    assert any("zygote: the child was forked" in n for n in forked.notes), forked.notes
    assert [(o.task, o.category, o.fraction, o.lines) for o in forked.outcomes] == \
        [(o.task, o.category, o.fraction, o.lines) for o in fresh.outcomes]
    if not mistakes:
        assert forked.score == pytest.approx(a.total_points)
    else:
        assert forked.score < a.total_points


@pytest.mark.sandbox
def test_a_hang_restarts_from_the_zygote_and_costs_one_function(tmp_path):
    path = planted(tmp_path, "hw1")
    path.write_text(path.read_text() + """

class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        return x @ weight.t()

    @staticmethod
    def backward(ctx, grad_output):
        while True:  # never returns
            pass
""")
    result = engine.grade(path, HW1, seed=2, timeout=3, zygote=True)
    by_task = {t.name: sum(o.fraction for o in result.outcomes if o.task == t.name) for t in HW1.tasks}
    assert by_task["Linear"] == 0
    assert all(v == pytest.approx(5.0) for k, v in by_task.items() if k != "Linear"), by_task


@pytest.mark.sandbox
def test_the_zygote_holds_one_thread_and_no_course_code():
    contain = sandbox.containment()
    zygote, why = sandbox.zygote_for(contain)
    if zygote is None:
        pytest.skip(why)
    assert zygote.threads == 1
    maps = Path(f"/proc/{zygote.proc.pid}/maps").read_text() if Path(f"/proc/{zygote.proc.pid}/maps").exists() else ""
    assert "solutions" not in maps
    environ = Path(f"/proc/{zygote.proc.pid}/environ").read_bytes()
    assert b"COURSE_NN" not in environ


@pytest.mark.sandbox
def test_a_zygote_that_cannot_fork_falls_back_to_a_fresh_child_and_says_so(tmp_path, monkeypatch):
    path = planted(tmp_path, "hw1")
    contain = sandbox.containment()
    if sandbox.zygote_for(contain)[0] is None:
        pytest.skip("no zygote here")

    def refuse(self, request, fds=()):
        raise OSError("the zygote could not fork the child: planted failure")

    monkeypatch.setattr(sandbox.Zygote, "ask", refuse)
    result = engine.grade(path, HW1, seed=3, zygote=True)
    assert result.score == pytest.approx(HW1.total_points)
    assert any("zygote failed" in n and "fresh interpreter" in n for n in result.notes), result.notes


@pytest.mark.sandbox
def test_one_zygote_serves_every_worker_of_a_batch(tmp_path):
    """Two clients of one shared zygote (as two forked workers hold them) each get their own children."""
    contain = sandbox.containment()
    zygote, why = sandbox.start_zygote(contain, 2)
    if zygote is None:
        pytest.skip(why)
    path = planted(tmp_path, "hw1")
    try:
        for index in (1, 0):  # what worker ``index`` holds after adopt_zygote (without forking a worker)
            client = copy.copy(zygote)
            client.sock, client.clients = zygote.clients[index], [zygote.clients[index]]
            assert client.threads == 1  # each socket gets the zygote's hello
            grading = sandbox.Grading(contain, path, HW1.submission)
            child = grading.child(1 << 30, client)
            try:
                assert not child.fallback
                kind, frame = child.read(time.monotonic() + 60)
                assert kind == "frame" and frame == {"event": "ready"}
            finally:
                child.kill()
                grading.close()
    finally:
        zygote.close()
    assert zygote.proc.poll() is not None


def test_the_grader_forks_its_workers_only_with_one_thread(monkeypatch):
    from course_nn.grading import cli_batch
    from course_nn.grading.child import contain

    monkeypatch.setattr(contain, "thread_count", lambda: 2)
    pool, zygote, how = cli_batch._start_workers(HW1, 1, no_zygote=True)
    try:
        assert zygote is None
        assert how == "workers are fresh interpreters (2 threads after importing torch)"
        assert pool._mp_context.get_start_method() == "spawn"
    finally:
        pool.shutdown()


@pytest.mark.sandbox
def test_cgroups_left_by_a_killed_grader_are_swept_but_a_new_one_is_not(tmp_path):
    """A grader killed with kill -9 cannot remove its child's cgroup; the next grader removes the old
    empty ones, never a fresh one (another grader's child may be about to join it)."""
    import os
    import secrets
    import time

    if not sandbox.containment().cgroup:
        pytest.skip("no cgroups here")
    root = next((r for r in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup") if Path(r, "cgroup.procs").exists()), None)
    old, new = (Path(root) / f"course-nn-test-{secrets.token_hex(4)}" for _ in range(2))
    old.mkdir()
    new.mkdir()
    try:
        os.utime(old, (time.time() - 3600,) * 2)
        assert sandbox.sweep_stale_cgroups((root,)) >= 1
        assert not old.exists() and new.exists()
    finally:
        for group in (old, new):
            if group.exists():
                group.rmdir()


def test_the_zygotes_warm_up_runs_the_probe_without_error():
    """The zygote swallows a failing warm-up (a head start, not a need): this is where a broken one shows."""
    child = Path(sandbox.__file__).resolve().parents[1] / "child"
    code = "import zygote; zygote._warm_probe(); print('warm')"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(child)!r}); {code}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "warm", out.stderr[-2000:]


def test_the_zygote_collects_again_after_its_warm_up_with_what_it_holds_frozen():
    """Its imports run with the collector off (they make almost no garbage); every child it forks must
    collect as any interpreter does, and walk none of what the zygote holds."""
    child = Path(sandbox.__file__).resolve().parents[1] / "child"
    code = "import gc, zygote; zygote._warm_up(); print(gc.isenabled(), gc.get_freeze_count() > 10000)"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(child)!r}); {code}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["True", "True"], (out.stdout, out.stderr[-2000:])


def test_the_grader_collects_again_after_its_warm_up_and_its_workers_walk_none_of_it():
    import gc

    from course_nn.grading import cli_batch

    pool, zygote, _how = cli_batch._start_workers(HW1, 1, no_zygote=True)
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() > 10000  # what the workers inherit (forked) stays out of their collections
        assert pool.submit(gc.isenabled).result()
    finally:
        pool.shutdown()
        gc.unfreeze()


def test_the_graders_warm_up_builds_the_gates_index_before_the_workers_are_forked():
    """What each worker's first student paid (the gate's resolved allow-list, the first hidden cases and
    references) is paid once by the grader before it forks them; nothing hidden is kept."""
    code = ("from course_nn import registry; from course_nn.grading import engine; "
            "from course_nn.grading.hw1 import cases; from course_nn.grading.review import index; "
            "engine.warm_up(registry.get('hw1')); "
            "print(index.index_for.cache_info().currsize, all(c['visible'] for cs in cases._VISIBLE.values() for c in cs))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0 and out.stdout.split() == ["1", "True"], (out.stdout, out.stderr[-2000:])


@pytest.mark.sandbox
def test_a_ready_zygote_forks_the_child_before_the_cases_are_built(tmp_path, monkeypatch):
    """The child's containment (a cgroup migration waits on the kernel) overlaps the parent's gate and
    cases, as a fresh child's start does; a zygote still importing torch overlaps them instead."""
    from course_nn.grading import review

    path = planted(tmp_path, "hw1")
    if sandbox.zygote_for(sandbox.containment())[0] is None:
        pytest.skip("no zygote here")
    order: list[str] = []
    real_child, real_check = sandbox.Grading.child, review.check
    monkeypatch.setattr(sandbox.Grading, "child", lambda self, *a, **k: order.append("child") or real_child(self, *a, **k))
    monkeypatch.setattr(review, "check", lambda *a, **k: order.append("cases") or real_check(*a, **k))
    result = engine.grade(path, HW1, seed=3, zygote=True)
    assert order[:2] == ["child", "cases"], order
    assert result.score == pytest.approx(HW1.total_points)


def test_a_fresh_child_collects_after_importing_torch_with_what_it_imported_frozen():
    child = Path(sandbox.__file__).resolve().parents[1] / "child"
    code = "import gc, contain; contain._load_runner(); print(gc.isenabled(), gc.get_freeze_count() > 10000)"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(child)!r}); {code}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["True", "True"], (out.stdout, out.stderr[-2000:])
