"""Containment of one child: the last trusted code between a fork and student code.

One definition for both ways a child starts. ``sandbox.Child`` execs ``python -I -B contain.py
FD`` (a fresh interpreter; the request is JSON on pipe FD), and the zygote (zygote.py) calls
``spawn`` for each child it forks. Either way, ``spawn`` forks G straight into a new PID
namespace (G is its PID 1: whatever G starts dies with it) and G, before student code:

1. joins the child's cgroup and sets rlimits (file size, open files, no core dumps, processes);
2. enters new mount, network and IPC namespaces and mounts: everything read-only, a fresh small
   /tmp, /var/tmp and /dev/shm, the sandbox on the anchor folder, secrets covered;
3. drops to the sandbox user (root grader) and every capability (always: without root the
   namespaces live in a user namespace, whose root G would otherwise stay, able to undo the mounts);
4. sets no_new_privs, re-arms the parent-death signal (changing uid cleared it) and checks its
   lifeline, so no child outlives the process that forked it.

Standard library only (the zygote and the fresh child import torch themselves): the probe that
decides whether namespaces work here runs this file too (``--probe``), without torch.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x08000000
CLONE_NEWNET, CLONE_NEWPID = 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# A remount of an inherited mount must keep its flags: inside a user namespace they are locked.
KEPT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
              "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}


def _call(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(text: str | None):
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _call(libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), f"mount {target}")


def _mounts() -> dict[str, int]:
    """Every mount point and the per-mount flags it has now."""
    found: dict[str, int] = {}
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            flags = 0
            for opt in fields[5].split(","):
                flags |= KEPT_FLAGS.get(opt, 0)
            found[fields[4].replace("\\040", " ")] = flags
    return found


def _read_only(point: str, flags: int) -> None:
    mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def mount_view(req: dict) -> None:
    """G, as (namespace) root in its new mount namespace: what the child may see."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    anchor = req["anchor"]
    mount("tmpfs", anchor, "tmpfs", 0, "size=1m,mode=755")
    if req["box"]:
        os.mkdir(anchor + "/box")
        mount(req["box"], anchor + "/box", None, MS_BIND)
    for i, path in enumerate(req["keep"]):  # the interpreter, when it lives under /tmp (a CI venv)
        os.mkdir(f"{anchor}/keep{i}")
        mount(path, f"{anchor}/keep{i}", None, MS_BIND)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this PID namespace's /proc
    for point, flags in _mounts().items():
        try:
            _read_only(point, flags)
        except OSError:
            pass  # e.g. a mount point hidden under another; what matters is checked below
    for scratch in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(scratch):
            mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmpfs']},mode=1777")
    for i, path in enumerate(req["keep"]):
        os.makedirs(path, exist_ok=True)
        mount(f"{anchor}/keep{i}", path, None, MS_BIND)
        _read_only(path, _mounts().get(path, 0))
    for d in req["hide_dirs"]:
        if os.path.isdir(d):
            mount("tmpfs", d, "tmpfs", 0, "size=4k,mode=000")
    for f in req["hide_files"]:
        if os.path.isfile(f):
            mount("/dev/null", f, None, MS_BIND)
    writable = [p for p in ("/", req["workdir"]) if os.statvfs(p).f_flag & os.ST_RDONLY == 0]
    if writable:
        raise OSError(f"could not make {writable[0]} read-only")


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


def enter(req: dict, fds: list[int], parent: int, lifeline: int) -> None:
    """G: from a fresh fork to the moment student code may run (steps 1-4 above)."""
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
        mount_view(req)
    os.chdir(req["workdir"])
    _drop_bounding_set()
    if req["uid"] is not None:
        os.setgroups([])
        os.setgid(req["gid"])
        os.setuid(req["uid"])
    _clear_capabilities()  # root of a user namespace keeps its uid: its powers go here
    _call(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # Changing uid cleared the parent-death signal: set it again, then make sure the parent did
    # not die in between (its end of the lifeline closes with it).
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if select.select([3], [], [], 0)[0]:
        os._exit(1)
    os.close(3)
    os.environ.clear()
    os.environ.update(req["env"])


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
            enter(req, fds, me, life_r)
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


def user_namespace(uid: int, gid: int) -> None:
    """Become root of a new user namespace mapped to our own uid and gid (a grader without root)."""
    _call(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    for name, text in (("setgroups", "deny"), ("gid_map", f"0 {gid} 1"), ("uid_map", f"0 {uid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def run_student(req: dict) -> None:
    """G, contained: the runner (imported before the fork, by main() here or by the zygote)."""
    import runner

    sys.argv = [req["runner"], req["target"]]
    runner.__file__ = req["runner"]
    runner.main()


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
    if not probe:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        import runner  # noqa: F401  (and torch, through the probes): before the fork, once
        for name in ("framing", "probe_hw1", "probe_hw2"):
            __import__(name)
    pid = spawn(req, [0, 1, 2], (lambda _req: os._exit(0)) if probe else run_student, again=False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the grader must see EOF on the child's pipes when G ends, not when we do
        os.dup2(devnull, fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
