"""Hostile submissions against child/contain.py that the containment defends: nested user
namespaces, setuid helpers, the cgroup, leftover descriptors and kill(-1) against the shared zygote.

Each attack runs fresh and forked from the zygote; the static gate already zeroes its credit, so
what is asserted is that the attack changed nothing and leaked nothing.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from test_security import (  # the attacks share their markers, paths and way to plant code
    CONTAIN,
    HW1,
    ROOT,
    SOLUTION,
    needs_namespaces,
    needs_root,
)
from test_security import with_extra as hostile

from course_nn.grading import report, sandbox

SEED_FILE = ROOT / "solutions" / "hw1_autograd" / "hidden.json"


def seed_text() -> str:
    return str(__import__("json").loads(SEED_FILE.read_text())["seed"]) if SEED_FILE.is_file() else "no-seed-file"


NESTED_USERNS = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def say(what, rc):
    print("NESTED", what, "ok" if rc == 0 else "refused", flush=True)
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000 | 0x00020000) != 0:  # a user namespace of its own, and a mount namespace in it
        print("NESTED unshare refused", flush=True)
    else:
        for cover in ("{root}/solutions", "{root}/course_nn", "{root}/.git", "/proc"):
            say("umount " + cover, libc.umount2(cover.encode(), 2))
        os.makedirs("/tmp/peek", exist_ok=True)
        say("bind", libc.mount(b"{root}", b"/tmp/peek", None, 4096, None))  # MS_BIND without MS_REC
        fd = libc.syscall(428, -100, b"{root}", 1)  # open_tree(OPEN_TREE_CLONE), not recursive
        say("open_tree", 0 if fd >= 0 else -1)
        say("remount-rw /", libc.mount(None, b"/", None, 32 | 4096, None))
        say("remount-rw {root}", libc.mount(None, b"{root}", None, 32 | 4096, None))
        say("move", libc.mount(b"{root}/solutions", b"/tmp/peek", None, 8192, None))
        for place in ("{root}/solutions/hw1_autograd/hidden.json", "/tmp/peek/solutions/hw1_autograd/hidden.json"):
            try:
                print("NESTED READ", open(place).read(), flush=True)
            except OSError:
                print("NESTED read refused", flush=True)
        try:
            open("{marker}", "w").write("x")
            print("NESTED WROTE", flush=True)
        except OSError:
            print("NESTED write refused", flush=True)
    os._exit(0)
os.waitpid(pid, 0)
'''


@needs_namespaces
def test_a_nested_user_namespace_cannot_lift_the_covers_or_remount(tmp_path, grade):
    """unshare(CLONE_NEWUSER) needs no privilege and gives every capability over a new mount
    namespace: the copied mounts must stay locked (no umount, no partial bind, no move, no rw)."""
    marker = ROOT / f".redteam-{secrets.token_hex(4)}"
    result = grade(hostile(tmp_path / "sub", NESTED_USERNS.format(root=ROOT, marker=marker)), HW1, seed=3)
    out = result.output
    assert "NESTED" in out, out[:500]
    assert "NESTED unshare refused" in out or " ok" not in out.replace("NESTED unshare", ""), out
    assert "NESTED READ" not in out and "NESTED WROTE" not in out and not marker.exists()
    assert seed_text() not in out and seed_text() not in report.table(result)
    assert result.score == 0


SETUID_AND_CGROUP = '''
import os, subprocess
for cmd in (["/usr/bin/umount", "-l", "{root}/solutions"], ["/usr/bin/mount", "-o", "remount,rw", "/"],
            ["/usr/bin/mount", "--bind", "{root}", "/tmp"]):
    if os.path.exists(cmd[0]):
        run = subprocess.run(cmd, capture_output=True, text=True)
        print("SETUID", cmd[0], run.returncode, flush=True)
try:
    print("SETUID READ", open("{root}/solutions/hw1_autograd/hidden.json").read(), flush=True)
except OSError:
    print("SETUID read refused", flush=True)
mine = [line.strip().split(":", 2)[2] for line in open("/proc/self/cgroup")]
for target in ["/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs"]:
    try:
        open(target, "w").write("0")
        print("CGROUP LEFT", target, flush=True)
    except OSError:
        print("CGROUP stay refused", flush=True)
for group in mine:
    for ctl in ("pids.max", "memory.max", "memory.limit_in_bytes"):
        for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory"):
            path = base + group + "/" + ctl
            if os.path.exists(path):
                try:
                    open(path, "w").write("max")
                    print("CGROUP LOOSENED", path, flush=True)
                except OSError:
                    print("CGROUP loosen refused", flush=True)
'''


@needs_root
@needs_namespaces
def test_setuid_helpers_and_the_cgroup_give_no_power_back(tmp_path, grade):
    """no_new_privs and an empty bounding set: setuid mount/umount run as nobody; the cgroup's
    limits cannot be raised nor the cgroup left."""
    result = grade(hostile(tmp_path / "sub", SETUID_AND_CGROUP.format(root=ROOT)), HW1, seed=3, timeout=30)
    out = result.output
    assert "SETUID read refused" in out, out[:800]
    lines = [line for line in out.splitlines() if line.startswith("SETUID /")]
    assert lines and all(not line.endswith(" 0") for line in lines), lines
    assert "CGROUP stay refused" in out and "CGROUP LEFT" not in out and "CGROUP LOOSENED" not in out, out[:800]
    assert seed_text() not in out
    assert result.score == 0


DESCRIPTORS = '''
import os, stat
seen = []
for fd in range(0, 1024):
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        continue
    seen.append((fd, "socket" if stat.S_ISSOCK(mode) else "pipe" if stat.S_ISFIFO(mode) else "other"))
print("FDS", seen, flush=True)
print("PIDS", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), flush=True)
'''


@needs_namespaces
def test_the_child_holds_only_its_own_pipes_and_sees_only_itself(tmp_path, grade):
    """No zygote socket (another worker's requests), no lifeline, no parent descriptor survives
    into student code; its /proc shows its own PID namespace only."""
    result = grade(hostile(tmp_path / "sub", DESCRIPTORS), HW1, seed=3)
    fds = next(line for line in result.output.splitlines() if line.startswith("FDS"))
    seen = eval(fds[4:])  # noqa: S307 - our own repr of a list of tuples
    assert [fd for fd, _ in seen] == [0, 1, 2, 3], seen  # stdin, stderr (as 1 and 2), the protocol pipe
    assert all(kind == "pipe" for _, kind in seen), seen
    assert "PIDS [1]" in result.output, result.output[:500]


KILL_EVERYTHING = '''
import os, signal
pid = os.fork()
if pid == 0:
    for target in range(2, 5000):  # every pid a guess could reach, then everything visible
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(-1, signal.SIGKILL)
    os._exit(0)
os.waitpid(pid, 0)
'''


@needs_namespaces
def test_kill_everything_visible_leaves_the_grader_and_the_shared_zygote_serving(tmp_path, grade):
    """A child that signals every pid it can name hits only its own namespace: the next student,
    forked from the same zygote, keeps full credit."""
    result = grade(hostile(tmp_path / "sub", KILL_EVERYTHING), HW1, seed=3, timeout=30)
    assert result.score == 0
    current = sandbox.current_zygote()
    zygote = current.proc.pid if grade.keywords["zygote"] and current is not None else None
    honest = grade(SOLUTION, HW1, seed=3)
    assert honest.score == pytest.approx(HW1.total_points), report.table(honest)
    if zygote is not None:  # the very same zygote forked the honest child: it was never hit
        current = sandbox.current_zygote()
        assert current is not None and current.proc.pid == zygote and current.alive()
        assert not any("zygote failed" in n or "zygote off" in n for n in honest.notes), honest.notes


KEYRING = '''
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
ADD_KEY = {{"x86_64": 248, "aarch64": 217}}[platform.machine()]
rc = libc.syscall(ADD_KEY, b"user", b"{name}", b"hidden inputs", 13, -4)  # into the uid's own keyring
print("ADD_KEY", rc, ctypes.get_errno(), flush=True)
'''


@pytest.mark.skipif(not CONTAIN.seccomp, reason="no seccomp filter on this machine (x86_64 and aarch64 only)")
def test_the_kernel_keyrings_are_shut(tmp_path, grade):
    """A uid's keyring outlives every grading and every namespace: a first submission could leave
    hidden inputs there for its resubmission (or for a classmate) to read. The child's seccomp
    filter refuses the keyring calls."""
    name = f"course-nn-{secrets.token_hex(4)}"
    result = grade(hostile(tmp_path / "sub", KEYRING.format(name=name)), HW1, seed=3)
    assert "ADD_KEY -1 1" in result.output, result.output[:500]  # EPERM
    assert name not in Path("/proc/keys").read_text() if Path("/proc/keys").exists() else True


UNIX_SOCKET = '''
import socket
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # refused here already by the seccomp filter
    s.connect({path!r})
    s.sendall(b"out of the sandbox")
    print("CONNECTED", flush=True)
except OSError as exc:
    print("REFUSED", type(exc).__name__, flush=True)
'''


@needs_namespaces
def test_host_sockets_are_not_in_the_childs_world(grade):
    """A listening Unix socket on the host (as /run/dbus or /var/run/docker.sock are) cannot be
    reached by path: the child's root holds only the system folders, the interpreter and its
    sandbox. The socket lies outside /tmp (the child's /tmp is its own anyway)."""
    import shutil
    import socket
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=".socket-", dir=ROOT))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        folder.chmod(0o755)
        path = folder / "listener.sock"
        server.bind(str(path))
        path.chmod(0o666)
        server.listen(1)
        server.settimeout(0.1)
        sub = folder / "sub"
        result = grade(hostile(sub, UNIX_SOCKET.format(path=str(path))), HW1, seed=3)
        assert "REFUSED" in result.output and "CONNECTED" not in result.output, result.output[:500]
        with pytest.raises(OSError):
            server.accept()  # nobody knocked
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
