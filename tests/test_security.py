"""Hostile submissions against the grader's trust boundary (hw1 and hw2).

Each test is an attack that worked against an in-process design, and asserts the credit it must
not earn, that nothing outlives grading, that no secret reaches anything a student sees, and that
the machine is unchanged. Honest submissions in unusual styles keep full credit in the real sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import textwrap
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.cli import main as cli_main
from course_nn.errors import UsageError
from course_nn.grading import cases as case_lib
from course_nn.grading import engine, report, review, sandbox

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
SOLUTION2 = ROOT / "solutions" / "hw2_mlp" / "mlp.py"
SUBMISSIONS_DIR = ROOT / "tests" / "submissions" / "hw1"
HW1 = registry.get("hw1")
HW2 = registry.get("hw2")

IS_ROOT = os.geteuid() == 0
CONTAIN = sandbox.containment(student_check=True)  # the layers this machine allows (grading may be refused: conftest)
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (the grader drops to 'nobody', as on Gradescope)")
needs_namespaces = pytest.mark.skipif(not CONTAIN.namespaces, reason="unshare (PID/mount/net namespaces) unavailable")

def write(folder: Path, source: str, name: str = "functions.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def with_extra(folder: Path, extra: str, base: Path = SOLUTION, name: str = "functions.py") -> Path:
    """The reference plus hostile module-level code."""
    return write(folder, base.read_text() + "\n" + textwrap.dedent(extra), name)


def student_text(result: engine.GradeResult) -> str:
    """Everything a student can see of a grading: visible tests' output and the top-level output."""
    data = report.results_json(result)
    shown = [data.get("output", "")]
    shown += [t["output"] for t in data["tests"] if t.get("visibility") in ("visible", "after_published", None)]
    return "\n".join(shown) + "\n" + report.table(result)


def no_process_with(token: str) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    return False
            except OSError:
                continue
    return True


# ----------------------------------------------------------------------------------------------
# 1. The result channel: forging results and shortening the case list


FORGE = '''
import sys, os
frame = sys._getframe()
while frame is not None and "proto" not in frame.f_locals:
    frame = frame.f_back
if frame is not None:
    proto, job = frame.f_locals["proto"], frame.f_locals["job"]
    framing, probe = sys.modules["framing"], sys.modules[job["probe"]]
    this = sys.modules[__name__]
    framing.write_frame(proto, {"event": "import", "ok": True, "error": ""})
    for task in job["tasks"]:
        framing.write_frame(proto, {"event": "start", "task": task})
        results = {c["id"]: probe.run_case(this, c, __file__) for c in job["cases"] if c["task"] == task}
        for r in results.values():  # hide what the recorders saw
            for part in r.values():
                if isinstance(part, dict):
                    part.pop("ops", None); part.pop("ops_forward", None)
        framing.write_frame(proto, {"event": "result", "task": task, "results": results})
    framing.write_frame(proto, {"event": "done"})
    os._exit(0)
'''


def test_forged_result_frames_earn_nothing(tmp_path, grade):
    # Functions written with torch's built-ins, reported through the runner's own channel at import.
    builtins = textwrap.dedent('''
        import torch
        from torch.autograd import Function
        class _Auto(Function):
            pass
        def _make(fn):
            class F(Function):
                @staticmethod
                def forward(ctx, *xs):
                    ctx.save_for_backward(*xs)
                    return fn(*xs)
                @staticmethod
                def backward(ctx, g):
                    xs = [x.detach().requires_grad_(True) for x in ctx.saved_tensors]
                    with torch.enable_grad():
                        out = fn(*xs)
                    return torch.autograd.grad(out, xs, g, allow_unused=True)
            return F
        Square = _make(lambda x: x * x)
        QuadraticForm = _make(lambda v, A: v @ A @ v)
        Sigmoid = _make(torch.sigmoid)
        ReLU = _make(torch.relu)
        Linear = _make(torch.nn.functional.linear)
        SquaredError = _make(torch.nn.functional.mse_loss)
        CrossEntropy = _make(torch.nn.functional.cross_entropy)
    ''')
    path = write(tmp_path / "sub", builtins + FORGE)
    result = grade(path, HW1, seed=11)
    assert result.score == 0, report.table(result)
    compliance = " ".join(line for o in result.outcomes if o.category == "compliance" for line in o.lines)
    assert "sys._getframe" in compliance or "import sys" in compliance


def test_shortening_the_case_list_fails_the_missing_cases(tmp_path, grade):
    # A wrong Sigmoid that deletes its own hidden cases from the job before the runner reads them.
    shorten = '''
import sys
frame = sys._getframe()
while frame is not None and "job" not in frame.f_locals:
    frame = frame.f_back
if frame is not None:
    job = frame.f_locals["job"]
    job["cases"][:] = [c for c in job["cases"] if c["task"] != "Sigmoid" or c.get("visible")]
'''
    wrong = textwrap.dedent('''

        class Sigmoid(Function):  # forgets the upstream gradient
            @staticmethod
            def forward(ctx, z):
                out = 1 / (1 + torch.exp(-z))
                ctx.save_for_backward(out)
                return out

            @staticmethod
            def backward(ctx, grad_output):
                (out,) = ctx.saved_tensors
                return out * (1 - out)
    ''')
    path = write(tmp_path / "sub", SOLUTION.read_text() + wrong + "\n" + shorten)
    result = grade(path, HW1, seed=3)
    sig = [o for o in result.outcomes if o.task == "Sigmoid"]
    assert not all(o.passed for o in sig)
    assert result.score == 0  # the gate saw sys._getframe: nothing from that process is trusted


def test_cases_without_a_well_formed_result_fail():
    import torch

    from course_nn.grading import cases as case_lib

    issued = case_lib.issue({"Square": [{"kind": "main", "inputs": [torch.ones(2)]}, {"kind": "main"}]})["Square"]
    good = {"stub": {"out": torch.ones(2)}}
    results, notes = case_lib.accept(issued, {issued[0].id: good, 999: good})
    assert results[0] is good
    assert "no result" in results[1]["error"]
    assert any("not asked" in n for n in notes)

    class Sneaky(torch.Tensor):
        pass

    results, notes = case_lib.accept(issued, {issued[0].id: {"out": torch.ones(2).as_subclass(Sneaky)},
                                              issued[1].id: {"out": object()}})
    assert "malformed" in results[0]["error"] and "malformed" in results[1]["error"]


# ----------------------------------------------------------------------------------------------
# 2. Compliance that cannot be switched off: the static gate


@pytest.mark.parametrize(("name", "line", "rule"), [
    ("disable torch function", "torch._C.DisableTorchFunction().__enter__()", "torch._C"),
    ("pop the mode stack", "torch.overrides._pop_mode_temporarily", "torch.overrides"),
    ("aten alias", "torch.ops.aten.relu.default(torch.zeros(1))", "torch.ops"),
    ("C++ cross entropy", "torch._C._nn.cross_entropy_loss", "torch._C"),
    ("engine directly", "torch.autograd.Variable._execution_engine", "torch.autograd.Variable"),
    ("threads", "import threading", "not a module a graded file may import"),
    ("eval", "eval('1')", "`eval`"),
    ("importlib", "import importlib", "not a module a graded file may import"),
    ("torch.os", "torch.os.getpid()", "torch.os"),
    ("tensor subclass", "class Later(torch.Tensor):\n    pass", "may not be a base class"),
    ("dunder hook", "class T:\n    def __torch_function__(cls, *a):\n        pass", "__torch_function__"),
    ("rebinding __name__", "__name__ = '__main__'", "__name__"),
    # found by a red-team pass
    ("getattr on a renamed self", "def f(self):\n    self = torch\n    return getattr(self, 'sys')", "module `torch`"),
    ("match class pattern", "match torch:\n    case object(sys=s):\n        pass", "`.sys`"),
    ("generator frame", "def g():\n    yield\nb = g().gi_frame.f_builtins", "interpreter's own objects"),
    ("typing evaluates strings", "import typing\nh = typing.get_type_hints", "typing.get_type_hints"),
    ("__name__ by match capture", "match '__main__':\n    case __name__:\n        pass", "may not be bound"),
    ("dunder key", "d = {}\nd['__import__']", "double-underscore keys"),
    ("import alias", "import torch as __name__", "may not be bound"),
])
def test_the_gate_flags_escapes_with_the_line_and_the_rule(name, line, rule):
    verdict = review.check(SOLUTION.read_text() + "\n" + line + "\n", HW1)
    assert verdict.escapes, name
    texts = [v.text() for v in verdict.escapes]
    assert any(rule in t for t in texts), texts
    assert all(any(part.strip()[:30] in t for part in line.splitlines()) for t in texts)


@pytest.mark.parametrize(("task", "code"), [
    ("Sigmoid", "torch.special.expit(x)"),
    ("Sigmoid", "x.sigmoid()"),
    ("Sigmoid", "torch.nn.Sigmoid()(x)"),
    ("ReLU", "x.relu_()"),
    ("ReLU", "torch.nn.functional.threshold(x, 0.0, 0.0)"),
    ("Linear", "torch.nn.functional.linear(x, x)"),
    ("CrossEntropy", "x.log_softmax(dim=1)"),
    ("CrossEntropy", "torch.special.log_softmax(x, 1)"),
])
def test_every_public_alias_of_a_forbidden_builtin_costs_that_function(task, code):
    source = textwrap.dedent(f"""
        import torch
        from torch.autograd import Function
        class {task}(Function):
            @staticmethod
            def forward(ctx, x):
                return {code}
    """)
    verdict = review.check(source, HW1)
    hits = verdict.shortcuts(HW1.task(task))
    assert hits and hits[0].in_forward, verdict.violations
    assert not any(verdict.shortcuts(t) for t in HW1.tasks if t.name != task)


def test_autograd_inside_backward_and_precomputed_answers_cost_the_function(tmp_path):
    cheat = SOLUTION.read_text() + textwrap.dedent("""

        _PRECOMPUTED = torch.sigmoid(torch.linspace(-3, 3, 7))  # honest only while observed


        class Sigmoid(Function):
            @staticmethod
            def forward(ctx, z):
                ctx.save_for_backward(z)
                return 1 / (1 + torch.exp(-z))

            @staticmethod
            def backward(ctx, grad_output):
                (z,) = ctx.saved_tensors
                with torch.enable_grad():
                    z = z.detach().requires_grad_(True)
                    out = 1 / (1 + torch.exp(-z))
                    return torch.autograd.grad(out, z, grad_output)[0]
    """)
    result = engine.grade(write(tmp_path, cheat), HW1, isolate=False, visible_only=True)
    sig = {o.category: o for o in result.outcomes if o.task == "Sigmoid"}
    assert sig["compliance"].fraction == 0 and sig["backward"].fraction == 0
    assert any("autograd" in line for line in sig["compliance"].lines)
    assert all(o.passed for o in result.outcomes if o.task not in ("Sigmoid",)), report.table(result)


def test_dispatch_level_ops_are_matched_by_aten_name():
    hits = review.runtime_shortcuts(HW1.task("CrossEntropy"), {"aten._log_softmax", "aten.exp", "aten.nll_loss_forward"})
    assert any("log_softmax" in h for h in hits) and any("nll_loss" in h for h in hits)
    assert review.runtime_shortcuts(HW1.task("Linear"), {"aten.addmm", "aten.mm", "aten.sum"}) == []


def test_honest_styles_pass_the_gate():
    for path, a in ((SOLUTION, HW1), (SOLUTION2, HW2)):
        assert review.check(path.read_text(), a).violations == [], path
    honest = textwrap.dedent("""
        from __future__ import annotations
        import math
        from typing import Optional
        import torch
        import torch.nn.functional as F
        from torch.autograd import Function
        from torch.autograd.function import once_differentiable

        class Sigmoid(Function):
            @staticmethod
            def forward(z):
                return 1.0 / (1.0 + torch.exp(-z))

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(output)
                ctx._note = "private state on ctx is fine"

            @staticmethod
            @once_differentiable
            def backward(ctx, grad_output):
                (s,) = ctx.saved_variables
                return grad_output * s * (1 - s)

        if __name__ == "__main__":
            import sys
            print(torch.sigmoid(torch.zeros(1)), math.pi, file=sys.stderr)
    """)
    assert review.check(honest, HW1).violations == []


# ----------------------------------------------------------------------------------------------
# 3. Secrets: fresh hidden cases, no solutions, no hidden inputs in feedback, no symlinks


def _hidden_linear_inputs(seed: int, run_id: str) -> list:
    cases = engine.scoring_module(HW1).make_cases(HW1, case_lib.hidden_seed(seed, run_id), False)["Linear"]
    return [c["inputs"][0] for c in cases if not c["visible"]]


def _same_tensors(xs: list, ys: list) -> bool:
    return len(xs) == len(ys) and all(x.shape == y.shape and bool((x == y).all()) for x, y in zip(xs, ys))


def test_hidden_cases_follow_the_files_content_and_the_secret(tmp_path):
    """The same bytes graded twice: the same run id, hidden cases and score. One byte changed: new
    hidden cases (answers precomputed for the old ones fail); --replay of the old id brings them back."""
    buggy = SUBMISSIONS_DIR / "msg_relu_two_at_kink.py"
    path = write(tmp_path / "a", (SUBMISSIONS_DIR / "correct_base.py").read_text() + "\n\n" + buggy.read_text())
    first = engine.grade(path, HW1, seed=7, isolate=False)
    again = engine.grade(write(tmp_path / "b", path.read_text()), HW1, seed=7, isolate=False)  # a copy elsewhere
    assert again.run_id == first.run_id and again.score == first.score
    assert [o.lines for o in again.outcomes] == [o.lines for o in first.outcomes]
    changed = write(tmp_path / "c", path.read_text() + "#")
    other = engine.grade(changed, HW1, seed=7, isolate=False)
    assert other.run_id != first.run_id
    assert not _same_tensors(_hidden_linear_inputs(7, other.run_id), _hidden_linear_inputs(7, first.run_id))
    assert not _same_tensors(_hidden_linear_inputs(8, first.run_id), _hidden_linear_inputs(7, first.run_id))  # the secret
    replayed = engine.grade(changed, HW1, seed=7, isolate=False, run_id=first.run_id)
    assert [o.lines for o in replayed.outcomes] == [o.lines for o in first.outcomes]


def test_a_grading_names_its_run_id_and_replays_it(tmp_path):
    first = engine.grade(SOLUTION, HW1, seed=7, isolate=False)
    again = engine.grade(SOLUTION, HW1, seed=7, isolate=False, run_id=first.run_id)
    assert any(first.run_id in n for n in first.notes)
    assert first.run_id not in student_text(first)
    assert [o.fraction for o in first.outcomes] == [o.fraction for o in again.outcomes]


READ_SECRETS = '''
import os, glob
found = []
for pattern in ["{root}/solutions/*/*.py", "{root}/solutions/*/hidden.json", "{root}/course_nn/grading/*.py",
                "/proc/1/environ"]:
    for name in glob.glob(pattern):
        try:
            found.append(open(name).read()[:300])
        except OSError as exc:
            found.append("denied " + type(exc).__name__)
print("LEAK:" + repr(found))
'''


@needs_namespaces
def test_the_child_cannot_read_solutions_the_seed_or_the_grader(tmp_path, grade):
    result = grade(with_extra(tmp_path / "sub", READ_SECRETS.format(root=ROOT)), HW1, seed=5)
    assert "LEAK:" in result.output, result.output[:500]
    assert "BEGIN SOLUTION" not in result.output and "20261126" not in result.output
    assert "def grade(" not in result.output
    assert "20261126" not in student_text(result)


@pytest.mark.parametrize("hw", ["hw1", "hw2"])
def test_the_course_package_cannot_be_reached_through_the_install(tmp_path, hw, grade):
    a = registry.get(hw)
    reach = '''
import importlib.metadata as md
try:
    text = md.distribution("course-nn").read_text("direct_url.json") or ""
except Exception as exc:
    text = type(exc).__name__
print("DIRECT:" + text)
try:
    import course_nn.grading.hw1 as leaked
    print("IMPORTED", leaked.__file__)
except Exception as exc:
    print("NOIMPORT", type(exc).__name__)
'''
    base = SOLUTION if hw == "hw1" else SOLUTION2
    result = grade(with_extra(tmp_path / "sub", reach, base, a.submission), a, seed=5)
    assert "IMPORTED" not in result.output
    assert result.score == 0  # importlib is outside the gate's allow-list


def test_hidden_exception_text_never_reaches_the_student(tmp_path):
    leak = SOLUTION.read_text() + textwrap.dedent("""

        class Linear(Function):
            @staticmethod
            def forward(ctx, x, weight, bias=None):
                raise ValueError("SECRET-INPUT " + str(x.flatten()[:3].tolist()) + str(tuple(x.shape)))

            @staticmethod
            def backward(ctx, grad_output):
                return None, None, None
    """)
    result = engine.grade(write(tmp_path, leak), HW1, seed=9, isolate=False)
    text = student_text(result)
    hidden_values = [o for o in result.outcomes if o.task == "Linear"]
    assert hidden_values and not any(o.passed for o in hidden_values)
    assert "ValueError" in text
    visible = [line for o in hidden_values for line in o.lines if "hidden" in line]
    assert all("SECRET-INPUT" not in line for line in visible), visible


def test_symlinked_submissions_are_refused(tmp_path, grade):
    secret = tmp_path / "secret.txt"
    secret.write_text("root-only first line\n")
    link = tmp_path / "functions.py"
    link.symlink_to(secret)
    with pytest.raises(UsageError, match="symbolic link"):
        grade(link, HW1)
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "functions.py").symlink_to(secret)
    with pytest.raises(UsageError, match="symbolic link"):
        grade(folder, HW1)


# ----------------------------------------------------------------------------------------------
# 4. Privilege


@needs_root
def test_root_with_an_interpreter_nobody_cannot_reach_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    sandbox.containment.cache_clear()
    from course_nn.grading.sandbox import modes

    monkeypatch.setattr(modes, "_world_reachable", lambda path: False)
    try:
        code = cli_main(["grade", str(SOLUTION), "--json", str(tmp_path / "r.json")])
    finally:
        sandbox.containment.cache_clear()
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "nobody" in err and "venv" in err
    assert "Traceback" not in err and not (tmp_path / "r.json").exists()


def test_the_machine_is_probed_once_however_containment_is_asked():
    """A batch asks ``containment()`` and ``ready()`` asks ``containment(False)``: one probe, one answer."""
    sandbox.containment.cache_clear()
    try:
        first = sandbox.containment(False)
        assert sandbox.containment() is first and sandbox.containment(student_check=False) is first
    finally:
        sandbox.containment.cache_clear()


@needs_root
def test_as_root_the_child_cannot_touch_the_grader_or_its_files(tmp_path, grade):
    canary = tmp_path / "canary.txt"
    canary.write_text("unchanged")
    os.chmod(tmp_path, 0o755)
    os.chmod(canary, 0o644)
    venv_file = Path(sys.executable).resolve()
    before = hashlib.sha256(venv_file.read_bytes()).hexdigest()
    attack = f'''
import os, signal
out = []
for pid in [p for p in (os.getppid(), {os.getpid()}) if p > 0]:
    try:
        os.kill(pid, signal.SIGKILL); out.append("killed " + str(pid))
    except OSError as exc:
        out.append(type(exc).__name__)
for target in [{str(canary)!r}, {str(venv_file)!r}, {str(ROOT / "course_nn" / "__init__.py")!r}]:
    try:
        open(target, "a").write("pwned"); out.append("wrote " + target)
    except OSError as exc:
        out.append(type(exc).__name__)
try:
    open("/proc/{os.getpid()}/mem", "rb").read(1); out.append("read mem")
except OSError as exc:
    out.append(type(exc).__name__)
print("ATTACK:" + repr(out))
'''
    result = grade(with_extra(tmp_path / "sub", attack), HW1, seed=1)
    assert "ATTACK:" in result.output
    assert "wrote" not in result.output and "read mem" not in result.output
    assert canary.read_text() == "unchanged"
    assert hashlib.sha256(venv_file.read_bytes()).hexdigest() == before
    assert result.score == 0


# ----------------------------------------------------------------------------------------------
# 5. Processes and resources


def test_a_deep_setsid_chain_does_not_outlive_grading(tmp_path, grade):
    token = f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    chain = f'''
import os
for depth in range(12):
    if os.fork() != 0:
        break
    os.setsid()
else:
    os.execv("/bin/sleep", ["sleep", "{token}"])
'''
    result = grade(with_extra(tmp_path / "sub", chain), HW1, seed=2, timeout=20)
    assert result.score == 0
    import time

    time.sleep(0.5)
    assert no_process_with(token), "a process of the submission outlived grading"


def test_forked_helpers_share_one_memory_allowance(tmp_path, grade):
    hog = '''
import os
import torch
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        hold = torch.ones(400 * 2**20 // 8, dtype=torch.float64)  # 400 MB each, touched
        import time
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
import time
time.sleep(60)
'''
    result = grade(with_extra(tmp_path / "sub", hog), HW1, seed=2, timeout=30, memory_bytes=500 << 20)
    lines = " ".join(line for o in result.outcomes for line in o.lines)
    assert "memory" in lines, lines[:400]
    assert result.score == 0


def test_files_written_to_tmp_do_not_stay(tmp_path, grade):
    name = f"course-nn-leftover-{secrets.token_hex(4)}"
    drop = f'''
for d in ["/tmp", "/var/tmp", "/dev/shm"]:
    try:
        open(d + "/{name}", "w").write("x")
    except OSError:
        pass
'''
    grade(with_extra(tmp_path / "sub", drop), HW1, seed=2)
    assert not any(Path(d, name).exists() for d in ("/tmp", "/var/tmp", "/dev/shm"))


def test_a_huge_frame_announcement_is_refused_at_once(tmp_path, grade):
    huge = '''
import os, struct, sys
frame = sys._getframe()
while frame is not None and "proto" not in frame.f_locals:
    frame = frame.f_back
os.write(frame.f_locals["proto"], struct.pack(">I", 4 * 2**30 - 1))
import time
time.sleep(30)
'''
    result = grade(with_extra(tmp_path / "sub", huge), HW1, seed=2, timeout=20)
    assert result.score == 0
    assert not any("took longer" in line for o in result.outcomes for line in o.lines)


def test_sandbox_folders_are_private(tmp_path):
    """A grading's folder is its uid's alone (0700): another grading's uid cannot even enter it."""
    uid = 1_900_065_000 if IS_ROOT else None
    box = sandbox.prepare(SOLUTION, "functions.py", uid)
    try:
        st = box.box.stat()
        assert st.st_mode & 0o777 == 0o700
        assert st.st_uid == (uid if IS_ROOT else os.getuid())
        assert box.scratch.stat().st_uid == st.st_uid and box.target.stat().st_uid == os.getuid()
    finally:
        box.cleanup()
    assert not box.root.exists()


# ----------------------------------------------------------------------------------------------
# 6. hw2


def test_hw2_escapes_earn_nothing(tmp_path, grade):
    evil = '''
import os
print(sorted(os.listdir("/")))
'''
    result = grade(with_extra(tmp_path / "sub", evil, SOLUTION2, "mlp.py"), HW2, seed=4)
    assert result.score == 0
    assert any("import os" in line for o in result.outcomes for line in o.lines)


# ----------------------------------------------------------------------------------------------
# Honest submissions keep full credit in the real sandbox


def test_reference_and_a_chatty_submission_keep_full_credit_in_the_sandbox(tmp_path, grade):
    chatty = SOLUTION.read_text() + "\n" + "print('debug: ' + 'x' * 200)\n" * 400
    for path in (SOLUTION, write(tmp_path, chatty)):
        result = grade(path, HW1, seed=8)
        assert result.score == pytest.approx(HW1.total_points), report.table(result)
    assert "debug: " in result.output and len(result.output) <= sandbox.OUTPUT_CAP
    data = report.results_json(result)
    assert data["extra_data"]["submission_output"]
    assert any("containment:" in n for n in result.notes)


def test_hw2_reference_keeps_full_credit_in_the_sandbox(grade):
    result = grade(SOLUTION2, HW2, seed=8)
    assert result.score == pytest.approx(HW2.total_points), report.table(result)


def test_results_json_is_written_by_the_parent_only(tmp_path, grade):
    out = tmp_path / "results.json"
    result = grade(SOLUTION, HW1, seed=8)
    report.write_results(result, out)
    assert json.loads(out.read_text())["score"] == pytest.approx(HW1.total_points)


def test_the_recorders_notice_when_they_are_stepped_around():
    """The runtime recorders are a teaching layer: when a Function's ops happen where they cannot see
    them, the result carries a mark that costs compliance (the gate stops this on purpose earlier)."""
    import torch
    from torch.autograd import Function
    from torch.utils._python_dispatch import _disable_current_modes

    from course_nn.grading.child import probe_hw1

    class Hidden(Function):
        @staticmethod
        def forward(ctx, x):
            with _disable_current_modes(), torch._C.DisableTorchFunction():
                return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    seen: set[str] = set()
    x = torch.ones(3, requires_grad=True)
    out = probe_hw1._recorded(seen, True, lambda: Hidden.apply(x))
    assert out.grad_fn is not None
    marks = [op for op in seen if op.startswith("recorder:")]
    assert marks, seen
    texts = review.runtime_shortcuts(HW1.task("Sigmoid"), seen)
    assert any("could not watch" in t for t in texts)


def test_frames_round_trip_plain_data_and_refuse_forged_headers():
    import json as _json
    import struct

    import torch

    from course_nn.grading.child import framing

    class Sub(torch.Tensor):
        pass

    obj = {1: {"out": torch.arange(6, dtype=torch.float64).reshape(2, 3), "t": (1, "a", None, float("nan"))},
           "x": [torch.ones((), dtype=torch.float32), torch.zeros(0, 2, dtype=torch.int64),
                 torch.ones(2).as_subclass(Sub)]}
    payload, rest = framing.split(framing.encode(obj))
    back = framing.decode(payload)
    assert rest == b"" and torch.equal(back[1]["out"], obj[1]["out"]) and back[1]["t"][:3] == (1, "a", None)
    assert all(type(t) is torch.Tensor for t in back["x"])  # a subclass comes back as a plain tensor
    # a header that claims more bytes than the blob holds, or an unknown dtype, is refused
    for bad in (["float64", [1000, 1000], 0, 8_000_000], ["object", [1], 0, 8], ["float64", [2], 0, 8]):
        text = _json.dumps({"__t": bad}).encode()
        with pytest.raises(framing.FrameError):
            framing.decode(struct.pack(">I", len(text)) + text + b"\0" * 8)
    with pytest.raises(framing.FrameError):
        framing.split(struct.pack(">I", framing.MAX_FRAME + 1))
    # a decode bomb: many headers pointing at the same bytes would make the reader allocate far more
    bomb = _json.dumps([{"__t": ["float64", [1], 0, 8]}] * 1000).encode()
    with pytest.raises(framing.FrameError):
        framing.decode(struct.pack(">I", len(bomb)) + bomb + b"\0" * 8)
    # tagged objects of the wrong shape, a tensor hidden inside another's header object, unhashable dict
    # keys and nesting past the JSON reader's own limit: each is one FrameError, never another exception
    hidden = {"__t": ["float64", [1], 8, 8], "x": {"__t": ["float64", [1], 0, 8]}}
    for bad in ({"__tuple": 5}, {"__dict": [[[1], 2]]}, {"__dict": [[1]]}, {"__t": "float64"}, hidden,
                {"__t": ["float64", [True], 0, 8]}):
        text = _json.dumps(bad).encode()
        with pytest.raises(framing.FrameError):
            framing.decode(struct.pack(">I", len(text)) + text + b"\0" * 8)
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(framing.FrameError):
        framing.decode(struct.pack(">I", len(deep)) + deep)


def test_a_result_a_frame_cannot_carry_fails_its_own_case_only(monkeypatch):
    """The runner's last line of defence: a unit whose results outgrow one frame (each case under the per-tensor
    cap) fails the cases that do not fit their share, with a line that says why; the child does not die, and a
    case's tamper mark survives the replacement."""
    import torch

    from course_nn.grading.child import framing, runner

    monkeypatch.setattr(framing, "MAX_FRAME", 1 << 20)
    results = {"small": {"out": torch.ones(3)}, "huge": {"out": [torch.zeros(64)] * 8000, "tampered": ["x"]}}
    payload, rest = framing.split(runner._result_frame(framing, 4, results))
    back = framing.decode(payload)
    assert rest == b"" and back["unit"] == 4 and torch.equal(back["results"]["small"]["out"], torch.ones(3))
    huge = back["results"]["huge"]
    assert "too large to send back" in huge["error"] and huge["tampered"] == ["x"], huge


def test_a_helper_in_another_class_still_costs_the_function_it_serves():
    source = textwrap.dedent("""
        import torch
        from torch.autograd import Function

        class Square(Function):
            @staticmethod
            def sig(z):
                return torch.special.expit(z)

        class Sigmoid(Function):
            @staticmethod
            def forward(ctx, z):
                return Square.sig(z)

        class ReLU(Function):
            @staticmethod
            def forward(ctx, z):
                return torch.softmax(torch.stack([z, torch.zeros_like(z)]), 0)[0] * 0 + z.clamp_min(0)
    """)
    verdict = review.check(source, HW1)
    assert verdict.shortcuts(HW1.task("Sigmoid")), "expit anywhere costs Sigmoid"
    assert verdict.shortcuts(HW1.task("ReLU")), "another task's built-in inside ReLU costs ReLU"
    assert all(verdict.in_forward(HW1.task("Sigmoid"), v) for v in verdict.shortcuts(HW1.task("Sigmoid")))


def test_hidden_inputs_cannot_ride_out_on_a_visible_exception(tmp_path, grade):
    """Sigmoid remembers every input it sees; CrossEntropy raises them in its message on a visible case.
    Every visible case runs before any hidden one, so only public inputs can ever be in that message."""
    spy = SOLUTION.read_text() + textwrap.dedent('''

        SEEN = []
        _Sigmoid = Sigmoid


        class Sigmoid(_Sigmoid):
            @staticmethod
            def forward(ctx, z):
                SEEN.append(round(float(z.double().sum()), 6))
                return _Sigmoid.forward(ctx, z)


        class CrossEntropy(Function):
            @staticmethod
            def forward(ctx, logits, target):
                raise ValueError("seen " + str(SEEN))

            @staticmethod
            def backward(ctx, grad_output):
                return None, None
    ''')
    run_id = "0123456789abcdef"
    result = grade(write(tmp_path, spy), HW1, seed=77, run_id=run_id)
    text = student_text(result)
    hw1 = engine.scoring_module(HW1)
    cases = hw1.make_cases(HW1, case_lib.hidden_seed(77, run_id), False)["Sigmoid"]
    sums = {c["visible"]: set() for c in cases}
    for c in cases:
        sums[c["visible"]].add(str(round(float(c["inputs"][0].double().sum()), 6)))
    assert any(s in text for s in sums[True]), "the spy should see the public inputs"
    assert not any(s in text for s in sums[False]), "a hidden input reached the student"


HOSTILE_WITHOUT_ROOT = """
import ctypes, sys
for line in open("/proc/self/status"):
    if line.startswith(("CapEff", "CapBnd", "NoNewPrivs")):
        print(line.strip(), file=sys.stderr)
try:
    open({outside!r}, "w").write("written by the submission")
except OSError as exc:
    print("write refused:", exc, file=sys.stderr)
libc = ctypes.CDLL(None, use_errno=True)
print("umount", libc.umount2({hidden_dir!r}.encode(), 2), file=sys.stderr)
try:
    print("READ", open({secret!r}).read()[:200], file=sys.stderr)
except OSError as exc:
    print("read refused:", exc, file=sys.stderr)
"""


@needs_root
def test_a_grader_without_root_leaves_its_child_no_power_over_the_namespaces():
    """A student grading on a laptop: no root, so the namespaces live in a user namespace whose root
    the child would be. Every capability must be gone (bounding set too), the file system read-only
    and the mounts that hide secrets impossible to lift."""
    import shutil
    import subprocess
    import tempfile

    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if not shutil.which("setpriv"):
        pytest.skip("setpriv not installed")
    folder = Path(tempfile.mkdtemp(prefix=".nobody-grader-", dir=ROOT))  # outside /tmp: the child's /tmp is private
    try:
        folder.chmod(0o777)
        outside, secret = folder / "written_by_submission", ROOT / "solutions" / "hw1_autograd" / "hidden.json"
        (folder / "functions.py").write_text(HOSTILE_WITHOUT_ROOT.format(
            outside=str(outside), hidden_dir=str(secret.parent.parent), secret=str(secret)))
        (folder / "functions.py").chmod(0o644)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder)}
        probe = subprocess.run(user + [sys.executable, "-c", "from course_nn.grading import sandbox; "
                                       "print(sandbox.containment().userns)"],
                               capture_output=True, text=True, env=env, cwd=folder)
        if probe.stdout.strip() != "True":
            pytest.skip(f"no user namespaces for an unprivileged grader here: {probe.stderr[-300:]}")
        script = ("import json; from course_nn import registry; from course_nn.grading import engine; "
                  f"r = engine.grade({str(folder / 'functions.py')!r}, registry.get('hw1'), seed=1); "
                  "print(json.dumps(r.output))")
        run = subprocess.run(user + [sys.executable, "-c", script], capture_output=True, text=True, env=env,
                             cwd=folder, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        printed = json.loads(run.stdout.strip().splitlines()[-1])
        assert "CapEff:\t0000000000000000" in printed and "CapBnd:\t0000000000000000" in printed, printed
        assert "NoNewPrivs:\t1" in printed, printed
        assert "write refused" in printed and not outside.exists()
        assert "umount -1" in printed
        assert "read refused" in printed and "READ" not in printed
    finally:
        shutil.rmtree(folder, ignore_errors=True)
