"""Containment of one child: the last trusted code between a fork and student code.

One definition for both ways a child starts and for every mode. ``sandbox.Child`` execs ``python
-I -B contain.py FD`` (a fresh interpreter; the request is JSON on pipe FD), and the zygote
(zygote.py) calls ``spawn`` for each child it forks. Either way, ``spawn`` forks G (straight into a
new PID namespace where the kernel allows it: G is its PID 1 and whatever G starts dies with it)
and G, before student code:

1. joins the child's cgroup (when there is one), sets rlimits (file size, open files, no core
   dumps, processes) and keeps only its three pipes;
2. *namespace mode*: enters new mount, network and IPC namespaces and builds a new root from an
   allow-list (mounts.py);
3. drops to its uid (a root grader leases one per grading: uids.py) with no groups, and every
   capability (always: without root the namespaces live in a user namespace, whose root G would
   otherwise stay, able to undo the mounts);
4. sets no_new_privs; *container mode* (no namespaces, as in a default Docker container):
   Landlock limits it to reading the allow-list and writing its own scratch folder, no TCP, no
   signal or abstract socket outside its domain (landlock.py, where the kernel has it);
5. installs the seccomp filter (syscall_filter.py: no sockets, no SysV/POSIX IPC, no keyrings,
   no page-cache probes, no SIGKILL at G from inside), re-arms the parent-death signal (changing uid cleared it) and checks
   its lifeline, so no child outlives the process that forked it.

Every layer asked for is applied or G dies before student code (fail closed). The probe that
decides the mode runs this very path (``--probe``), then checks from inside what applied.
Standard library only (the zygote and the fresh child import torch themselves).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import sys

try:
    from . import landlock, mounts, syscall_filter
except ImportError:  # run as a script (python -I), or imported by zygote.py: the siblings by path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import landlock
    import mounts
    import syscall_filter

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x08000000
CLONE_NEWNET, CLONE_NEWPID = 0x40000000, 0x20000000
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_call = mounts._call


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_bounding_set() -> None:
    """No capability can come back through an exec (needs CAP_SETPCAP: before changing uid)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last cap: ignored
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def _clear_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit data words
    data = (_CapData * 2)()
    _call(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def _limits(req: dict) -> None:
    for name, value in req["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _become(req: dict) -> None:
    """Another uid (when the grader is root) and no capability in any set."""
    _drop_bounding_set()
    if req["uid"] is not None:
        os.setgroups([])
        os.setresgid(req["gid"], req["gid"], req["gid"])
        os.setresuid(req["uid"], req["uid"], req["uid"])
    _clear_capabilities()  # root of a user namespace keeps its uid: its powers go here
    _call(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _confine(req: dict) -> dict:
    """Landlock (container mode) and the seccomp filter; returns what applied."""
    applied = {"landlock": 0, "seccomp": False}
    if req["landlock"]:
        read = [*req["allow"], "/proc", req["box"]]
        applied["landlock"] = landlock.restrict(read, req["scratch"], mounts.device_files(), req["landlock"])
    if req["seccomp"]:
        syscall_filter.install(os.getpid())
        applied["seccomp"] = True
    return applied


def enter(req: dict, fds: list[int], parent: int, lifeline: int) -> dict:
    """G: from a fresh fork to the moment student code may run (steps 1-5 above). Returns the
    layers that applied."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() not in (parent, 0):  # the parent is already gone (0: it is outside our PID namespace)
        os._exit(1)
    os.setsid()  # the grader kills the child's whole session
    for procs in req["cgroup_procs"]:
        with open(procs, "w") as fh:
            fh.write("0")  # "0": the writing process (our pid differs inside the new PID namespace)
    _limits(req)
    for target, fd in enumerate([*fds, lifeline]):
        os.dup2(fd, target)
    os.closerange(4, 65536)  # the parent's sockets and every other descriptor stay behind
    if req["namespaces"]:
        _call(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
        mounts.mount_view(req)
    os.chdir(req["workdir"])
    _become(req)
    applied = _confine(req)
    # Changing uid cleared the parent-death signal: set it again, then make sure the parent did
    # not die in between (its end of the lifeline closes with it).
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if select.select([3], [], [], 0)[0]:
        os._exit(1)
    os.close(3)
    os.environ.clear()
    os.environ.update(req["env"])
    return applied


_OWN_PID_NS = -1  # the caller's own PID namespace, to return to after each child (see spawn)
LIFELINES: dict[int, int] = {}  # child pid -> the parent's end of its lifeline, closed when reaped


def spawn(req: dict, fds: list[int], child_main, again: bool = True) -> int:
    """Fork G straight into a new PID namespace; G runs ``enter`` then ``child_main(req)`` and never
    returns. Returns G's pid to the caller.

    unshare(CLONE_NEWPID) only changes where the caller's *next* child is born; with ``again`` (a
    zygote, which forks many), setns back to its own namespace right after the fork keeps each
    child's namespace its own. One fork per child: forking an interpreter that has imported torch
    costs ~15 ms."""
    global _OWN_PID_NS
    me = os.getpid()
    again = again and req["namespaces"]
    if again and _OWN_PID_NS < 0:
        _OWN_PID_NS = os.open("/proc/self/ns/pid", os.O_RDONLY)
    life_r, life_w = os.pipe()  # nothing is ever written: the child sees EOF once the parent is gone
    if req["namespaces"]:
        _call(libc.unshare(CLONE_NEWPID), "unshare")
    try:
        pid = os.fork()
    finally:
        if again and os.getpid() == me:
            _call(libc.setns(_OWN_PID_NS, CLONE_NEWPID), "setns")
    if pid == 0:
        try:
            req["applied"] = enter(req, fds, me, life_r)
            child_main(req)
        except BaseException as exc:  # noqa: BLE001 - report on the child's stderr, then die
            try:
                os.write(2, f"the grader could not start the child: {type(exc).__name__}: {exc}\n".encode())
            except OSError:
                pass
        os._exit(111)
    os.close(life_r)
    LIFELINES[pid] = life_w
    return pid


def reaped(pid: int) -> None:
    """``pid`` was waited for: its lifeline can close."""
    if pid in LIFELINES:
        os.close(LIFELINES.pop(pid))


def thread_count() -> int:
    """Threads of this process (0 when unknown): forking is safe only with exactly one."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def user_namespace(uid: int, gid: int) -> None:
    """Become root of a new user namespace mapped to our own uid and gid (a grader without root)."""
    _call(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    for name, text in (("setgroups", "deny"), ("gid_map", f"0 {gid} 1"), ("uid_map", f"0 {uid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def _load_runner() -> None:
    """The runner and the probes (and torch, through them), imported before the fork, once: with the
    collector off (importing torch runs ~400 collections, a sixth of its CPU, that find almost nothing),
    then frozen (the child never walks them) and on again (it collects as any interpreter does)."""
    import gc

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    gc.disable()
    try:
        import runner  # noqa: F401
        for name in ("framing", "probe_hw1", "probe_hw2"):
            __import__(name)
    finally:
        gc.enable()
    gc.freeze()


def run_student(req: dict) -> None:
    """G, contained: the runner (imported before the fork, by main() here or by the zygote)."""
    import runner

    sys.argv = [req["runner"], req["target"]]
    runner.__file__ = req["runner"]
    runner.main()


def exec_runner(req: dict) -> None:
    """G in a user namespace: start the interpreter again, from inside the new root.

    G is root of a namespace mapped to the grader's own uid, so it owns whatever the grader owns. An
    interpreter started before the new root would stay reachable through /proc/self/exe on the
    host's writable mount (chmod, xattrs on a grader-owned pyenv or conda binary); exec'd from here,
    its binary is the read-only bind. (As root the child has a uid of its own that owns nothing but
    its sandbox: a fork is enough.)"""
    os.execv(sys.executable, [sys.executable, "-I", "-B", req["runner"], req["target"]])


def report_probe(req: dict) -> None:
    """G in a probe: check from inside what the containment did, write it as one JSON line on
    stdout, and end. The grader trusts a mode only when what it asked for is seen here."""
    import socket

    seen = {**req.get("applied", {}), "uid": os.getuid(), "pid": os.getpid()}
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        seen["socket"] = True
    except OSError:
        seen["socket"] = False
    try:
        with open(req["canary"], "rb"):
            seen["canary_read"] = True  # a world-readable file outside the allow-list
    except OSError:
        seen["canary_read"] = False
    for folder in req["scratch"]:
        try:
            with open(os.path.join(folder, "probe"), "wb"):
                seen["scratch_written"] = True
        except OSError:
            seen["scratch_written"] = False
    os.write(1, (json.dumps(seen) + "\n").encode())
    os._exit(0)


def _exit_as(status: int) -> None:
    """End this process as G ended: with its exit code, or killed by its signal (so the grader
    tells a student's own exit from a kill)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os.kill(os.getpid(), signal.SIGKILL)  # a signal whose default is to be ignored
    os._exit(os.waitstatus_to_exitcode(status))


def main() -> None:
    """A fresh child: ``contain.py FD`` (request JSON on FD) or ``contain.py --probe FD``.

    This process stays outside the child's namespaces, waits for G and exits with its status."""
    probe = sys.argv[1] == "--probe"
    with os.fdopen(int(sys.argv[-1]), "rb") as fh:
        req = json.loads(fh.read())
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the grader
    if req["userns"]:
        user_namespace(os.getuid(), os.getgid())
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # new credentials cleared it
    if os.getppid() != req["parent"]:
        os._exit(1)  # the grader died before the signal was armed
    if probe:
        child_main = report_probe
    elif req["userns"]:
        child_main = exec_runner
    else:
        _load_runner()
        child_main = run_student
    pid = spawn(req, [0, 1, 2], child_main, again=False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the grader must see EOF on the child's pipes when G ends, not when we do
        os.dup2(devnull, fd)
    _, status = os.waitpid(pid, 0)
    _exit_as(status)


if __name__ == "__main__":
    main()
