"""Grading without namespaces, as root in a default Docker container (Gradescope): container mode.

Each attack class that beat the old fallback (uid nobody, rlimits, a tree watchdog, the subreaper)
is a hostile submission here, run in container mode (forced on this machine, with a default
container's read-only cgroups) and, where the attack means something there too, in namespace mode;
"container-bare" is container mode on a kernel without Landlock and seccomp, where only the uid,
the rlimits, the watchdog and the clean-up hold. Each test asserts what the attack must NOT get.
tests/test_docker_default.py runs this file again under a default container's real restrictions.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import course_copy
from test_security import HW1, SOLUTION, needs_root, with_extra

from course_nn.cli import main as cli_main
from course_nn.errors import UsageError
from course_nn.grading import engine, report

pytestmark = needs_root  # container mode leases uids: it needs root (as Gradescope's grader has)

BOTH = pytest.mark.parametrize("contained", ["namespace", "container"], indirect=True)
EVERY = pytest.mark.parametrize("contained", ["namespace", "container", "container-bare"], indirect=True)
CONTAINER = pytest.mark.parametrize("contained", ["container", "container-bare"], indirect=True)


def uid_of(result: engine.GradeResult) -> int:
    """The uid this grading leased (the notes name it)."""
    return int(next(m.group(1) for n in result.notes for m in [re.search(r"runs as uid (\d+), leased", n)] if m))


def live_processes(uid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{entry}/status").read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and fields["State"][0] not in "ZX":
            found.append(int(entry))
    return found


def with_cmdline(token: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


# ----------------------------------------------------------------------------------------------
# Processes: nothing outlives grading, whatever re-grows


REGROW = '''
import os, time
if os.fork() == 0:
    os.setsid()
    while True:  # a new pid every generation, and a sleeper per generation: kill rounds never catch up
        try:
            if os.fork() != 0:
                os._exit(0)
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "{token}"])
        except OSError:
            pass
        time.sleep(0.01)
time.sleep(2)
'''


@BOTH
def test_processes_that_regrow_after_kill_rounds_do_not_outlive_grading(tmp_path, contained, grade):
    token = f"{secrets.randbelow(10**6) + 1000}.{secrets.randbelow(10**6)}"
    result = grade(with_extra(tmp_path / "sub", REGROW.format(token=token)), HW1, seed=2, timeout=20)
    assert result.score == 0  # import os: the gate
    for _ in range(2):  # a survivor would still be forking a second later
        time.sleep(0.5)
        assert not with_cmdline(token), "a process of the submission outlived grading"
    if contained.leases:
        assert not live_processes(uid_of(result))


SELF_KILL = '''
import os, signal, threading
me = os.getpid()
for what, call in [("pid", lambda: os.kill(me, signal.SIGKILL)), ("group", lambda: os.kill(0, signal.SIGKILL)),
                   ("every", lambda: os.kill(-1, signal.SIGKILL)), ("pgid", lambda: os.killpg(me, signal.SIGKILL)),
                   ("thread", lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGKILL))]:
    try:
        call()
        print("SENT", what, flush=True)
    except OSError as exc:
        print("REFUSED", what, exc.errno, flush=True)
helper = os.fork()
if helper == 0:  # a helper aims at its parent, the child itself
    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass
    os._exit(0)
os.waitpid(helper, 0)
print("ALIVE", flush=True)
'''


@BOTH
def test_a_submission_cannot_kill_itself_to_look_killed_from_outside(tmp_path, contained, grade):
    """A SIGKILL the grader cannot explain is retried, then a grader error (not the student's 0): so
    no SIGKILL from inside may reach the child — else a submission could trade its 0 for a blank."""
    result = grade(with_extra(tmp_path / "sub", SELF_KILL), HW1, seed=2)
    assert "ALIVE" in result.output and "SENT" not in result.output, result.output[:600]
    assert not result.grader_error and result.score == 0
    assert not any(n.startswith("started the child again") for n in result.notes)


# ----------------------------------------------------------------------------------------------
# Memory: helpers that leave the child's tree still count


DETACHED_HOGS = '''
import os, time, torch
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        if os.fork() != 0:
            os._exit(0)  # the helper is orphaned: it leaves the child's process tree
        os.setsid()
        block = torch.ones(300 * 2**20 // 8, dtype=torch.float64)  # 300 MB each, touched
        time.sleep(120)
        os._exit(0)
    os.waitpid(pid, 0)
time.sleep(120)
'''


@BOTH
def test_detached_helpers_share_one_memory_allowance(tmp_path, contained, grade):
    """Three helpers, each orphaned out of the child's tree, hold 900 MB against a 500 MB
    allowance: the cgroup (namespace mode here) or the watchdog over every process of the uid
    (container mode: no cgroup) stops the grading, and none of them outlives it."""
    result = grade(with_extra(tmp_path / "sub", DETACHED_HOGS), HW1, seed=2, timeout=60, memory_bytes=500 << 20)
    lines = " ".join(line for o in result.outcomes for line in o.lines)
    assert "more memory than the grader allows" in lines, lines[:500]
    assert result.score == 0
    if contained.leases:
        assert not live_processes(uid_of(result))


# ----------------------------------------------------------------------------------------------
# Secrets: closed by permission, or the grader refuses


@pytest.mark.parametrize("contained", ["container"], indirect=True)
def test_a_world_readable_checkout_is_refused_in_one_line(tmp_path, contained, monkeypatch, capsys, open_folder):
    """A git clone is world-readable: without namespaces the child's uid could read the solutions,
    the seed and the history. Refused before anything runs, with the command that fixes it."""
    course = course_copy(open_folder / "course", closed=False)
    monkeypatch.setenv("COURSE_NN_ROOT", str(course))
    code = cli_main(["grade", str(SOLUTION), "-a", "hw1", "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"chmod -R o-rwx {course / 'solutions'} {course / '.git'}" in err
    assert not (tmp_path / "r.json").exists()
    with pytest.raises(UsageError, match="chmod -R o-rwx"):
        engine.grade(SOLUTION, HW1, seed=1)
    course_copy(open_folder / "closed", closed=True)
    monkeypatch.setenv("COURSE_NN_ROOT", str(open_folder / "closed"))
    assert engine.grade(SOLUTION, HW1, seed=1).score == pytest.approx(HW1.total_points)


READ_COURSE = '''
import glob
for pattern in ["{root}/solutions/*/hidden.json", "{root}/solutions/*/functions.py", "{root}/.git/HEAD",
                "{seed}", "{public}"]:
    for name in glob.glob(pattern) or [pattern]:
        try:
            print("READ", name, open(name).read()[:200])
        except OSError as exc:
            print("DENIED", name, type(exc).__name__)
'''


@CONTAINER
def test_closed_secrets_stay_unread_with_and_without_landlock(tmp_path, contained, monkeypatch, open_folder):
    """The course lies where every user may pass (as a clone under /srv would), its secrets closed
    (0700/0600). The child reads none of them: by permission, and also by Landlock where it applies
    (which also shuts a world-readable file outside its allow-list)."""
    root = course_copy(open_folder / "course", closed=True)
    monkeypatch.setenv("COURSE_NN_ROOT", str(root))
    seed, public = open_folder / "seed.json", open_folder / "public.txt"
    seed.write_text('{"seed": 818181}')
    seed.chmod(0o600)
    public.write_text("anyone may read this")
    public.chmod(0o644)
    monkeypatch.setenv("COURSE_NN_HIDDEN", str(seed))
    attack = READ_COURSE.format(root=root, seed=seed, public=public)
    result = engine.grade(with_extra(tmp_path / "sub", attack), HW1, seed=5)
    out = result.output
    assert out.count("DENIED") >= 4 and "818181" not in out and "BEGIN SOLUTION" not in out, out[:800]
    assert ("READ " + str(public) in out) == (not contained.landlock), out[:800]
    line = next(n for n in result.notes if n.startswith("containment:"))
    assert ("Landlock ABI" in line) == bool(contained.landlock), line


@CONTAINER
def test_a_class_folder_others_may_read_is_shut_by_landlock_or_refused(tmp_path, contained, open_folder):
    """grade-batch hides the class folder, results and gradebook. Without namespaces Landlock shuts
    them; without Landlock only their permissions can, so a folder every user may read is refused."""
    classmate = open_folder / "class" / "alice" / "functions.py"
    classmate.parent.mkdir(parents=True)
    classmate.write_text("# alice-private\n" + SOLUTION.read_text())
    for path in (open_folder / "class", classmate.parent):
        path.chmod(0o755)
    classmate.chmod(0o644)
    peek = f"try:\n    print('READ', open({str(classmate)!r}).read()[:20])\nexcept OSError:\n    print('DENIED')\n"
    sub = with_extra(tmp_path / "bob", peek)
    if contained.landlock:
        result = engine.grade(sub, HW1, seed=2, hide=[open_folder / "class"])
        assert "DENIED" in result.output and "alice-private" not in result.output, result.output[:300]
    else:
        with pytest.raises(UsageError, match=f"chmod -R o-rwx {open_folder / 'class'}"):
            engine.grade(sub, HW1, seed=2, hide=[open_folder / "class"])


# ----------------------------------------------------------------------------------------------
# State: nothing a grading leaves reaches the next


WRITER = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for path in ["/tmp/{name}", "/var/tmp/{name}", "/dev/shm/{name}", "/tmp/{name}-dir/deep/left"]:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write("hidden inputs")
        os.chmod(path, 0o666)
        print("WROTE", path)
    except OSError as exc:
        print("REFUSED", path, exc.errno)
for what, rc in [("shm", libc.shmget({key}, 4096, 0o1666)), ("msg", libc.msgget({key}, 0o1666)),
                 ("sem", libc.semget({key}, 1, 0o1666))]:
    print("SYSV", what, "made" if rc >= 0 else "refused")
rt = ctypes.CDLL("librt.so.1", use_errno=True)
print("MQ", "made" if rt.mq_open(b"/{name}", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0 else "refused")
'''

READER = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for path in ["/tmp/{name}", "/var/tmp/{name}", "/dev/shm/{name}", "/tmp/{name}-dir/deep/left"]:
    if os.path.exists(path):
        print("FOUND", path)
for what, rc in [("shm", libc.shmget({key}, 0, 0)), ("msg", libc.msgget({key}, 0)), ("sem", libc.semget({key}, 0, 0))]:
    if rc >= 0:
        print("FOUND sysv", what)
rt = ctypes.CDLL("librt.so.1", use_errno=True)
if rt.mq_open(b"/{name}", os.O_RDONLY, 0, None) >= 0:
    print("FOUND mq")
print("READER DONE")
'''


@EVERY
def test_nothing_one_grading_leaves_reaches_the_next(tmp_path, contained):
    """Files in /tmp, /var/tmp and /dev/shm, SysV shared memory, queues and semaphores, and a POSIX
    queue, left by one grading for the next: refused (private tmpfs and IPC namespace; Landlock and
    seccomp), or removed with everything else the uid owned (container-bare). POSIX queues cannot
    be listed without /dev/mqueue: seccomp refuses them, so container-bare leaves that one aside."""
    name, key = f"course-nn-left-{secrets.token_hex(4)}", secrets.randbelow(2**30) + 1
    first = engine.grade(with_extra(tmp_path / "a", WRITER.format(name=name, key=key)), HW1, seed=1)
    assert "SYSV shm" in first.output, first.output[:500]
    if contained.mode == "container" and not contained.landlock:
        assert "WROTE /tmp/" in first.output  # the attack itself ran: only the clean-up stops it
    assert not any(Path(d, name).exists() for d in ("/tmp", "/var/tmp", "/dev/shm"))
    assert not Path("/tmp", name + "-dir").exists()
    for kind in ("shm", "msg", "sem"):
        assert not any(line.split()[0] == str(key)
                       for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]), kind
    second = engine.grade(with_extra(tmp_path / "b", READER.format(name=name, key=key)), HW1, seed=1)
    assert "READER DONE" in second.output, second.output[:500]
    found = [line for line in second.output.splitlines() if line.startswith("FOUND")]
    if not contained.seccomp:
        found = [line for line in found if line != "FOUND mq"]
        rt = __import__("ctypes").CDLL("librt.so.1")
        rt.mq_unlink(f"/{name}".encode())  # what this test's own attack left (see the docstring)
    assert not found, found


# ----------------------------------------------------------------------------------------------
# Network


NETWORK = '''
import socket
for what, family, kind, address in [("tcp", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", {port})),
                                    ("udp", socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", {udp})),
                                    ("unix", socket.AF_UNIX, socket.SOCK_STREAM, {path!r}),
                                    ("abstract", socket.AF_UNIX, socket.SOCK_STREAM, {abstract!r})]:
    try:
        s = socket.socket(family, kind)
        s.settimeout(2)
        s.connect(address)
        s.send(b"out of the sandbox")
        print("REACHED", what)
    except OSError as exc:
        print("REFUSED", what, exc.errno)
'''


@BOTH
def test_no_network_of_any_kind(tmp_path, contained, grade):
    """TCP and UDP on loopback, a unix socket any user may connect to, an abstract unix socket: the
    child reaches none (namespace mode: no network and its own root; container mode: seccomp
    refuses socket, Landlock scopes abstract sockets)."""
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    unix, abstract = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
    folder = Path(tmp_path / "sockets")
    folder.mkdir()
    try:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        udp.bind(("127.0.0.1", 0))
        unix.bind(str(folder / "listener"))
        unix.listen(1)
        abstract.bind(f"\0course-nn-{secrets.token_hex(4)}")
        abstract.listen(1)
        for p in (tmp_path, folder, folder / "listener"):
            p.chmod(0o777)
        attack = NETWORK.format(port=tcp.getsockname()[1], udp=udp.getsockname()[1], path=str(folder / "listener"),
                                abstract=abstract.getsockname())
        result = grade(with_extra(tmp_path / "sub", attack), HW1, seed=3)
        assert result.output.count("REFUSED") == 4 and "REACHED" not in result.output, result.output[:500]
        for listener in (tcp, unix, abstract):
            listener.settimeout(0.2)
            with pytest.raises(OSError):
                listener.accept()  # nobody knocked
        udp.settimeout(0.2)
        with pytest.raises(OSError):
            udp.recv(64)
    finally:
        for s in (tcp, udp, unix, abstract):
            s.close()


# ----------------------------------------------------------------------------------------------
# A class: one hostile student among honest ones


MALLORY = '''
import glob, os, signal, time
seen = []
end = time.time() + 6  # classmates are graded beside this one (--jobs 2)
while time.time() < end:
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    for name in glob.glob("{subs}/*/functions.py") + glob.glob("/tmp/course-nn-grade-*/work/*.py"):
        try:
            seen.append(open(name).read()[:80])
        except OSError:
            pass
print("LEAK " + " | ".join(seen), flush=True)  # kept in her results.json (submission_output)
kids = 0
try:
    while kids < 2000:  # as many processes as her uid may have (the watchdog may stop her first)
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        kids += 1
except OSError:
    pass
'''


@BOTH
@pytest.mark.slow
def test_one_hostile_student_leaves_every_classmate_as_alone(tmp_path, contained):
    """Mallory, graded beside her classmates with the zygote (--jobs 2), kills every process she
    can name, reads every submission she can find and forks all she may. Every classmate scores
    what the reference scores alone (100) and nothing of theirs reaches her feedback."""
    subs = tmp_path / "subs"
    markers = {}
    for student in ("alice", "bob", "carol"):
        markers[student] = f"{student}-private-{secrets.token_hex(5)}"
        (subs / student).mkdir(parents=True)
        (subs / student / "functions.py").write_text(f"# {markers[student]}\n" + SOLUTION.read_text())
    (subs / "mallory").mkdir()
    (subs / "mallory" / "functions.py").write_text(SOLUTION.read_text() + textwrap.dedent(MALLORY.format(subs=subs)))
    env = {**os.environ, "COURSE_NN_CONTAINMENT": os.environ["COURSE_NN_CONTAINMENT"]}
    proc = subprocess.run([sys.executable, "-m", "course_nn", "grade-batch", str(subs), "-a", "hw1", "--jobs", "2",
                           "--csv", str(tmp_path / "grades.csv"), "--quiet"], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    for student in markers:
        assert rows[student]["status"] == "ok" and float(rows[student]["score"]) == pytest.approx(100), rows[student]
    seen_by_mallory = (tmp_path / "grades_results" / "mallory" / "results.json").read_text()
    assert "LEAK" in seen_by_mallory  # her attack ran and what it found was kept...
    assert not any(marker in seen_by_mallory for marker in markers.values())  # ...with nothing of theirs
    assert any(f"containment: {contained.mode} mode" in n for n in json.loads(seen_by_mallory)["extra_data"]["notes"])
    assert "zygote: the child was forked" in seen_by_mallory


# ----------------------------------------------------------------------------------------------
# What the notes say


@EVERY
def test_the_notes_say_which_layers_applied(contained):
    result = engine.grade(SOLUTION, HW1, seed=4)
    line = next(n for n in result.notes if n.startswith("containment:"))
    assert result.score == pytest.approx(HW1.total_points), report.table(result)
    assert f"{contained.mode} mode" in line and f"uid {uid_of(result)}" in line
    assert ("Landlock ABI" in line) == bool(contained.landlock)
    assert ("seccomp: no sockets" in line) == contained.seccomp
    assert ("namespaces (a new root" in line) == contained.namespaces
