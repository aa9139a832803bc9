"""Grading in a default Docker container's conditions, in CI: the suite's own launcher
(tests/docker_default.py: Docker's 14 capabilities, no_new_privs, a seccomp filter refusing what
moby's default profile refuses without CAP_SYS_ADMIN) runs the hostile suite, grade-batch with the
zygote and run_autograder. Its answers are checked against the faithful reference
(/opt/dd/docker_default_run, or $COURSE_NN_DOCKER_DEFAULT) where that exists.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, course_copy

LAUNCHER = [sys.executable, str(Path(__file__).with_name("docker_default.py")), "--"]
SOLUTIONS = {"hw1": REPO / "solutions" / "hw1_autograd" / "functions.py", "hw2": REPO / "solutions" / "hw2_mlp" / "mlp.py"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or platform.machine() != "x86_64",
                                reason="the launcher drops root's capabilities: it needs root on x86_64")


def reference() -> str | None:
    """The faithful launcher (moby's profile through libseccomp), where it was built."""
    for path in (os.environ.get("COURSE_NN_DOCKER_DEFAULT", ""), "/opt/dd/docker_default_run"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def inside(*cmd: str, env: dict | None = None, cwd: Path = REPO, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*LAUNCHER, *cmd], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def closed(tmp_path_factory) -> dict[str, str]:
    """The environment of a course whose secrets are closed to other users (container mode refuses
    to grade otherwise)."""
    root = course_copy(tmp_path_factory.mktemp("dd-course") / "course", closed=True)
    return {"COURSE_NN_ROOT": str(root)}


PROBE = r'''
import ctypes, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    return 0 if libc.syscall(nr, *args) >= 0 else ctypes.get_errno()
out = {"unshare_pid": call(272, 0x20000000), "unshare_user": call(272, 0x10000000),
       "mount": call(165, b"none", b"/mnt", b"tmpfs", 0, None), "umount2": call(166, b"/no-such-x", 0),
       "pivot_root": call(155, b"/no-such-x", b"/no-such-y"), "setns": call(308, -1, 0),
       "clone3": call(435, None, 0), "keyctl": call(250, 0, 0), "bpf": call(321, 0, None, 0),
       "io_uring_setup": call(425, 1, None), "userfaultfd": call(323, 0), "chroot": call(161, b"/"),
       "landlock_abi": libc.syscall(444, None, 0, 1), "subreaper": call(157, 36, 1, 0, 0, 0)}
for name, flags in (("clone_newns", 0x00020000), ("clone_plain", 0)):
    pid = libc.syscall(56, flags | 17, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    out[name] = ctypes.get_errno() if pid < 0 else os.waitpid(pid, 0) and 0
pid = os.fork()
if pid == 0:
    try:
        os.setresgid(1900065001, 1900065001, 1900065001)
        os.setresuid(1900065001, 1900065001, 1900065001)
        os._exit(0)
    except OSError as exc:
        os._exit(exc.errno)
out["setuid"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
for name, family in (("inet", socket.AF_INET), ("vsock", 40)):
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
        out["socket_" + name] = 0
    except OSError as exc:
        out["socket_" + name] = exc.errno
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
out.update({key: status[key].strip() for key in ("CapEff", "CapBnd", "CapPrm", "NoNewPrivs")})
print(json.dumps(out, sort_keys=True))
'''


def test_the_launcher_answers_as_the_reference_does(tmp_path):
    """Every call the grader's containment depends on gets the same answer from the suite's launcher
    as from moby's own profile: namespaces, mounts and keyrings refused, clone3 ENOSYS, setuid,
    chroot, the subreaper and Landlock allowed, Docker's 14 capabilities."""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    ours = inside(sys.executable, str(script))
    assert ours.returncode == 0, ours.stderr
    seen = json.loads(ours.stdout)
    assert seen["unshare_pid"] == seen["mount"] == seen["pivot_root"] == seen["clone_newns"] == 1  # EPERM
    assert seen["clone3"] == 38 and seen["setuid"] == 0 and seen["clone_plain"] == 0
    assert seen["CapEff"] == seen["CapBnd"] == "00000000a80425fb"  # Docker's 14 default capabilities
    ref = reference()
    if ref is None:
        pytest.skip("the reference launcher is not built here (/opt/dd/docker_default_run, $COURSE_NN_DOCKER_DEFAULT)")
    theirs = subprocess.run([ref, "--no-ns", "--", sys.executable, str(script)], capture_output=True, text=True)
    assert theirs.returncode == 0, theirs.stderr
    assert seen == json.loads(theirs.stdout)


@pytest.mark.sandbox
def test_the_probe_finds_container_mode_and_says_why(closed):
    run = inside(sys.executable, "-c", "from course_nn.grading import sandbox; c = sandbox.containment(); "
                                       "print(c.mode, c.landlock, c.seccomp, c.cgroup or '-', '|', c.fell_back)",
                 env=closed)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("container ") and "unshare: Operation not permitted" in run.stdout, run.stdout


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_hostile_suite_holds_inside(closed):
    """The hostile suite (every attack, fresh and forked from the zygote) in a default container's
    conditions: namespace-only tests skip with their reason."""
    run = inside(sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/test_security.py",
                 "tests/test_container_mode.py", "tests/test_containment_redteam.py", "tests/test_root_redteam.py",
                 "tests/test_grader_error.py", env=closed, timeout=3000)
    tail = (run.stdout + run.stderr)[-3000:]
    assert run.returncode == 0, tail
    summary = tail.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and not re.search(r"\d+ (failed|error)", summary), summary


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("hw", ["hw1", "hw2"])
def test_grade_batch_with_the_zygote_scores_the_references_inside(tmp_path, closed, hw):
    subs = tmp_path / "subs"
    name = SOLUTIONS[hw].name
    for student in ("ann", "ben", "cid"):
        (subs / student).mkdir(parents=True)
        shutil.copyfile(SOLUTIONS[hw], subs / student / name)
    run = inside(sys.executable, "-m", "course_nn", "grade-batch", str(subs), "-a", hw, "--jobs", "2",
                 "--csv", str(tmp_path / "grades.csv"), "--quiet", env=closed)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [float(r["score"]) for r in rows] == [100.0] * 3 and {r["status"] for r in rows} == {"ok"}
    notes = json.loads((tmp_path / "grades_results" / "ann" / "results.json").read_text())["extra_data"]["notes"]
    assert any(n.startswith("containment: container mode") and "Landlock" in n for n in notes), notes
    assert "how: workers forked from one torch import, sharing one zygote" in run.stdout
    assert any("zygote: the child was forked" in n for n in notes)


@pytest.fixture
def autograder_folder():
    """A folder laid out like /autograder that every user may pass through (as / is): only the
    seed's own mode keeps it from a child's uid."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="course-nn-ag-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder / "autograder"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.sandbox
@pytest.mark.slow
def test_run_autograder_scores_the_reference_inside_and_ships_the_seed_closed(tmp_path, autograder_folder):
    built = subprocess.run([sys.executable, "-m", "course_nn", "autograder", "build", "-a", "hw1", "--out",
                            str(tmp_path / "ag.zip")], capture_output=True, text=True, cwd=REPO)
    assert built.returncode == 0, built.stderr
    ag = autograder_folder
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        zf.extractall(ag / "source")
    assert modes["hidden/hw1.json"] & 0o777 == 0o600 and modes["hidden/"] & 0o777 == 0o700
    for path in [ag, *ag.rglob("*")]:  # extracted as an unzip that ignores modes would: readable by all
        path.chmod(0o755 if path.is_dir() else 0o644)
    (ag / "submission").mkdir()
    shutil.copyfile(SOLUTIONS["hw1"], ag / "submission" / "functions.py")
    run = inside("bash", str(ag / "source" / "run_autograder"), cwd=ag,
                 env={"COURSE_NN_AUTOGRADER_ROOT": str(ag), "COURSE_NN_PYTHON": sys.executable})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads((ag / "results" / "results.json").read_text())
    assert data["score"] == pytest.approx(100)
    assert any(n.startswith("containment: container mode") for n in data["extra_data"]["notes"])
    seed = ag / "source" / "hidden" / "hw1.json"
    assert seed.stat().st_mode & 0o777 == 0o600 and seed.stat().st_uid == 0
    assert (ag / "source" / "hidden").stat().st_mode & 0o777 == 0o700
