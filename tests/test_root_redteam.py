"""Hostile submissions against the allow-listed root that the containment defends: the seccomp
filter's other ABIs, the interpreter reached through /proc/self/exe (as root: it belongs to root,
the child is nobody), read-only everywhere but the scratch mounts, and a nested user namespace with
its own cgroup and PID namespaces.

Each attack runs fresh and forked from the zygote; the static gate already zeroes its credit, so
what is asserted is that the attack changed nothing and leaked nothing.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest
from test_security import (  # the attacks share their markers, paths and way to plant code
    CONTAIN,
    HW1,
    ROOT,
    needs_namespaces,
    needs_root,
)
from test_security import with_extra as hostile

OTHER_ABIS = '''
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.syscall(0x40000000 | 248, b"user", b"x32-key", b"hidden", 6, -4)  # add_key through the x32 ABI
print("X32", rc, ctypes.get_errno(), flush=True)
pid = os.fork()
if pid == 0:  # add_key through int 0x80 (the i386 ABI, number 286) from executable memory
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(bytes([0xb8, 0x1e, 0x01, 0, 0, 0x31, 0xdb, 0xcd, 0x80, 0xc3]))
    print("INT80 RETURNED", ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))(), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("INT80 SIGNAL", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, flush=True)
'''


@pytest.mark.skipif(platform.machine() != "x86_64" or not CONTAIN.seccomp, reason="x86_64 ABIs, seccomp")
def test_the_keyrings_stay_shut_through_the_x32_and_i386_abis(tmp_path, grade):
    """The filter matches the native ABI's numbers only: a call through x32 (number | 0x40000000)
    fails with EPERM and one through int 0x80 kills the process (SIGSYS) before the kernel runs it."""
    result = grade(hostile(tmp_path / "sub", OTHER_ABIS), HW1, seed=3)
    out = result.output
    assert "X32 -1 1" in out, out[:500]
    assert "INT80 SIGNAL 31" in out and "INT80 RETURNED" not in out, out[:500]
    assert result.score == 0


THROUGH_EXE = '''
import os
for name, act in (("chmod", lambda: os.chmod("/proc/self/exe", 0o4777)),
                  ("xattr", lambda: os.setxattr("/proc/self/exe", "user.course-nn", b"kept")),
                  ("write", lambda: os.close(os.open("/proc/self/exe", os.O_WRONLY))),
                  ("utime", lambda: os.utime("/proc/self/exe", (0, 0)))):
    try:
        act()
        print("EXE CHANGED", name, flush=True)
    except OSError as exc:
        print("EXE refused", name, exc.errno, flush=True)
'''


@needs_root
@needs_namespaces
def test_the_interpreter_cannot_be_changed_through_proc_self_exe(tmp_path, grade):
    """/proc/self/exe reaches the interpreter on the host's own (writable) mount, past the read-only
    view: as root the binary belongs to root and the child is nobody, so nothing about it changes."""
    exe = Path(os.path.realpath(sys.executable))
    before = exe.stat()
    result = grade(hostile(tmp_path / "sub", THROUGH_EXE), HW1, seed=3)
    out = result.output
    assert out.count("EXE refused") == 4 and "EXE CHANGED" not in out, out[:500]
    after = exe.stat()
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)
    assert "user.course-nn" not in os.listxattr(exe)
    assert result.score == 0


MOUNTS = '''
import os
loose = []
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    if "ro" not in fields[5].split(","):
        loose.append(fields[4])
print("WRITABLE MOUNTS", sorted(loose), flush=True)
'''


@needs_namespaces
def test_only_the_scratch_mounts_are_writable(tmp_path, grade):
    """Every mount of the child's root — the system folders with everything mounted below them (the
    cgroup hierarchies under /sys too), the interpreter, the sandbox, the devices — is read-only;
    only the fresh tmpfs scratch, /dev's own tmpfs and the child's /proc are not."""
    result = grade(hostile(tmp_path / "sub", MOUNTS), HW1, seed=3)
    line = next((x for x in result.output.splitlines() if x.startswith("WRITABLE MOUNTS")), "")
    assert line, result.output[:500]
    loose = set(eval(line[len("WRITABLE MOUNTS"):]))  # noqa: S307 - our own repr of a list of paths
    assert loose <= {"/tmp", "/var/tmp", "/dev", "/dev/shm", "/proc"}, loose
    assert result.score == 0


NESTED_NAMESPACES = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    # user, mount, cgroup, PID and network namespaces of its own: every capability over them
    if libc.unshare(0x10000000 | 0x00020000 | 0x02000000 | 0x20000000 | 0x40000000) != 0:
        print("NESTED unshare refused", flush=True)
        os._exit(0)
    if os.fork() == 0:
        for fs in ("cgroup2", "proc", "sysfs"):
            os.makedirs("/tmp/" + fs, exist_ok=True)
            print("NESTED mount", fs, libc.mount(fs.encode(), ("/tmp/" + fs).encode(), fs.encode(), 0, None), flush=True)
        for path in ("/tmp/cgroup2/course-nn-kept", "/tmp/sysfs/fs/cgroup/course-nn-kept"):
            try:
                os.mkdir(path)
                print("NESTED MADE", path, flush=True)
            except OSError:
                print("NESTED mkdir refused", flush=True)
        for path in ("/tmp/cgroup2/cgroup.procs", "/tmp/proc/sys/vm/drop_caches", "/tmp/proc/sys/kernel/hostname"):
            try:
                open(path, "w").write("1")
                print("NESTED WROTE", path, flush=True)
            except OSError:
                print("NESTED write refused", flush=True)
        os._exit(0)
    os.wait()
    os._exit(0)
os.waitpid(pid, 0)
'''


@needs_namespaces
def test_a_nested_cgroup_and_proc_give_nothing_to_keep(tmp_path, grade):
    """A nested user namespace may mount its own cgroup2 and /proc, but their files belong to the
    host's root: no cgroup is made (it would outlive the grading), no sysctl or hostname is set."""
    before = os.uname().nodename
    result = grade(hostile(tmp_path / "sub", NESTED_NAMESPACES), HW1, seed=3)
    out = result.output
    assert "NESTED" in out, out[:500]
    assert "NESTED MADE" not in out and "NESTED WROTE" not in out, out[:800]
    assert "NESTED unshare refused" in out or out.count("NESTED write refused") == 3, out[:800]
    assert not list(Path("/sys/fs/cgroup").glob("**/course-nn-kept"))
    assert os.uname().nodename == before
    assert result.score == 0


EXE_ATTACK = '''
import os, sys
for what, call in [("chmod", lambda: os.chmod("/proc/self/exe", 0o4777)),
                   ("xattr", lambda: os.setxattr("/proc/self/exe", "user.kept", b"between gradings"))]:
    try:
        call()
        print("CHANGED", what, file=sys.stderr)
    except OSError as exc:
        print("REFUSED", what, exc, file=sys.stderr)
'''


@needs_root
def test_a_grader_owned_interpreter_cannot_be_changed_through_proc_self_exe():
    """Grading without root with an interpreter the grader owns (pyenv, conda, a --copies venv): the
    child is root of a user namespace mapped to the grader, i.e. the binary's owner. Had it kept the
    interpreter started before its new root, /proc/self/exe would reach the host's writable file
    (a setuid, world-writable interpreter; xattrs carried to the next grading)."""
    import shutil
    import subprocess
    import tempfile

    if not shutil.which("setpriv") or not Path("/usr/bin/python3").exists():
        pytest.skip("needs setpriv and /usr/bin/python3")
    system = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                            capture_output=True, text=True).stdout.strip()
    if system != str(tuple(sys.version_info[:2])):
        pytest.skip("/usr/bin/python3 is another Python version than the one running the tests")
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix=".nobody-python-", dir=ROOT))
    try:
        os.chown(folder, 65534, 65534)
        folder.chmod(0o755)
        subprocess.run(user + ["/usr/bin/python3", "-m", "venv", "--copies", "--without-pip", str(folder / "v")],
                       check=True, capture_output=True)
        import site

        pth = next((folder / "v" / "lib").glob("python*/site-packages")) / "grader.pth"
        pth.write_text(f"import site; site.addsitedir({site.getsitepackages()[0]!r})\n")
        python = folder / "v" / "bin" / "python"
        before = python.stat().st_mode
        (folder / "functions.py").write_text(EXE_ATTACK)
        (folder / "functions.py").chmod(0o644)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}
        probe = subprocess.run(user + [str(python), "-c", "from course_nn.grading import sandbox; "
                                       "print(sandbox.containment().userns)"], capture_output=True, text=True,
                               env=env, cwd=folder)
        if probe.stdout.strip() != "True":
            pytest.skip(f"no user namespaces for an unprivileged grader here: {probe.stderr[-300:]}")
        script = ("import json; from course_nn import registry; from course_nn.grading import engine; "
                  f"r = engine.grade({str(folder / 'functions.py')!r}, registry.get('hw1'), seed=1); "
                  "print(json.dumps(r.output))")
        run = subprocess.run(user + [str(python), "-c", script], capture_output=True, text=True, env=env,
                             cwd=folder, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        printed = __import__("json").loads(run.stdout.strip().splitlines()[-1])
        assert "REFUSED chmod" in printed and "REFUSED xattr" in printed, printed
        assert python.stat().st_mode == before and not os.listxattr(python)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


PAGE_CACHE = '''
import os, sys
fd = os.open(os.__file__, os.O_RDONLY)
for what, call in [("fadvise", lambda: os.posix_fadvise(fd, 0, 4096, os.POSIX_FADV_DONTNEED)),
                   ("nowait", lambda: os.preadv(fd, [bytearray(16)], 0, os.RWF_NOWAIT)),
                   ("plain", lambda: os.preadv(fd, [bytearray(16)], 0))]:
    try:
        print("DONE", what, call(), file=sys.stderr)
    except OSError as exc:
        print("REFUSED", what, exc.errno, file=sys.stderr)
'''


@pytest.mark.skipif(not CONTAIN.seccomp, reason="no seccomp filter on this machine")
def test_the_page_cache_cannot_carry_bits_between_gradings(tmp_path, grade):
    """The page cache is shared by the whole machine: one grading could evict or load pages of a
    system file, the next ask which are resident without reading them (RWF_NOWAIT, fadvise). Those
    calls are refused; an ordinary read is not."""
    result = grade(hostile(tmp_path / "sub", PAGE_CACHE), HW1, seed=3)
    assert "REFUSED fadvise 1" in result.output and "REFUSED nowait 1" in result.output, result.output[:500]
    assert "DONE plain 16" in result.output, result.output[:500]
