"""A zygote: an interpreter that has imported torch once and forks one contained child per submission.

Started by the grader as ``python -I -B zygote.py FD[,FD...] GRADER_PID`` (one end of a socketpair per grading
worker: a batch shares one zygote between its workers), it imports
torch and the child's own code (runner, framing, probes — standard library and torch only) and
nothing else: no secret, no case, no reference ever reaches it. Its one warm-up runs on a single
thread, so no thread pool exists when it forks (it reports its thread count; the grader falls back
to fresh interpreters when that is not 1). PrairieLearn's Python zygote is the model.

For each request (JSON, with the child's stdin/stdout/stderr passed as file descriptors) it forks
G straight into a new PID namespace (G is its PID 1: every process G starts dies with it). G joins
the child's cgroup, sets rlimits, enters new mount/network/IPC namespaces, mounts exactly what a
fresh child's ``unshare`` + ``mount`` + ``setpriv`` chain would (read-only everything, private
/tmp, secrets covered), drops to the sandbox user, closes every other descriptor and runs the
runner. The grader talks to G through the pipes exactly as to a fresh child.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the grader; set before the slow imports
if len(sys.argv) > 2 and os.getppid() != int(sys.argv[2]):
    os._exit(1)  # the grader died before that took effect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import framing  # noqa: E402,F401
import probe_hw1  # noqa: E402,F401
import probe_hw2  # noqa: E402,F401
import runner  # noqa: E402
import torch  # noqa: E402,F401  the heavy import, done once


def _warm_up() -> None:
    """Run once what every child runs first (autograd through a custom Function under the recorders'
    modes, framing), so lazy imports inside torch (0.4 s for torch.fx's symbolic shapes on the first
    torch.autograd.grad) are paid here, once, and not by every forked child. No student code, no
    case; single-threaded (main() reports the thread count afterwards)."""
    from probe_hw1 import _DispatchRecorder, _FunctionRecorder  # the recorders every child runs under

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    seen: set[str] = set()
    with _FunctionRecorder(seen), _DispatchRecorder(seen):
        y = Twice.apply(x)
        torch.autograd.grad(y, [x], torch.ones(3, dtype=torch.float64), retain_graph=True)
    with torch.no_grad():
        Twice.backward(y.grad_fn, torch.ones(3, dtype=torch.float64))
    payload, _rest = framing.split(framing.encode({"a": [x.detach()], "b": "c"}))
    framing.decode(payload)


CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x08000000, 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18


def _call(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(text: str | None):
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _call(libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), f"mount {target}")


def _mountpoints() -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return sorted({line.split()[4] for line in fh})


def contain(req: dict) -> None:
    """G, as root inside the new namespaces: the same mounts as sandbox._setup_script."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    anchor = req["anchor"]
    mount("tmpfs", anchor, "tmpfs", 0, "size=1m,mode=755")
    os.mkdir(anchor + "/box")
    mount(req["box"], anchor + "/box", None, MS_BIND)
    for i, path in enumerate(req["keep"]):  # the interpreter, when it lives under /tmp (a CI venv)
        os.mkdir(f"{anchor}/keep{i}")
        mount(path, f"{anchor}/keep{i}", None, MS_BIND)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this PID namespace's /proc
    for point in _mountpoints():
        try:
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError:
            pass
    for scratch in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(scratch):
            mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmpfs']},mode=1777")
    for i, path in enumerate(req["keep"]):
        os.makedirs(path, exist_ok=True)
        mount(f"{anchor}/keep{i}", path, None, MS_BIND)
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for d in req["hide_dirs"]:
        if os.path.isdir(d):
            mount("tmpfs", d, "tmpfs", 0, "size=4k,mode=000")
    for f in req["hide_files"]:
        if os.path.isfile(f):
            mount("/dev/null", f, None, MS_BIND)


def _limits(req: dict) -> None:
    for name, value in req["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _run_child(req: dict, fds: list[int], parent: int, lifeline: int) -> None:
    """G, the child (PID 1 of its own PID namespace when namespaces are on): never returns."""
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() not in (parent, 0):  # the zygote is already gone (0: it is outside our PID namespace)
            os._exit(1)
        os.setsid()  # the grader kills the child's whole session
        for procs in req["cgroup_procs"]:
            with open(procs, "w") as fh:
                fh.write("0")  # "0": the writing process (our pid differs inside the new PID namespace)
        _limits(req)
        for target, fd in enumerate([*fds, lifeline]):
            os.dup2(fd, target)
        os.closerange(4, 65536)  # the zygote's sockets and every other descriptor stay behind
        if req["namespaces"]:
            _call(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
            contain(req)
        os.chdir(req["workdir"])
        if req["uid"] is not None:
            os.setgroups([])
            os.setgid(req["gid"])
            os.setuid(req["uid"])
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        # Changing uid cleared the parent-death signal: set it again, then make sure the zygote did
        # not die in between (its end of the lifeline closes with it), so no child outlives a grader.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if select.select([3], [], [], 0)[0]:
            os._exit(1)
        os.close(3)
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = [req["runner"], req["target"]]
        runner.__file__ = req["runner"]
        runner.main()
    except BaseException as exc:  # noqa: BLE001 - report on the child's stderr, then die
        try:
            os.write(2, f"zygote child failed: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    os._exit(111)


_OWN_PID_NS = -1  # the zygote's own PID namespace (opened in main), to return to after each child


def spawn(req: dict, fds: list[int]) -> int:
    """Fork G straight into a new PID namespace; returns its pid.

    unshare(CLONE_NEWPID) only changes where the zygote's *next* child is born; setns back to its
    own namespace right after the fork keeps each child's namespace its own. One fork per child,
    not two: forking an interpreter that has imported torch costs ~15 ms."""
    me = os.getpid()
    life_r, life_w = os.pipe()  # nothing is ever written: the child sees EOF once the zygote is gone
    if req["namespaces"]:
        _call(libc.unshare(CLONE_NEWPID), "unshare")
    try:
        pid = os.fork()
    finally:
        if req["namespaces"] and os.getpid() == me:
            _call(libc.setns(_OWN_PID_NS, CLONE_NEWPID), "setns")
    if pid == 0:
        _run_child(req, fds, me, life_r)
    os.close(life_r)
    _LIFELINES[pid] = life_w
    return pid


_LIFELINES: dict[int, int] = {}  # child pid -> the zygote's end of its lifeline, closed when reaped


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _answer(req: dict, fds: list[int], statuses: dict[int, int]) -> dict:
    if req["op"] == "fork":
        pid = spawn(req, fds)
        for fd in fds:
            os.close(fd)
        return {"pid": pid}
    while True:  # reap every finished child, remember its status
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done == 0:
            break
        statuses[done] = os.waitstatus_to_exitcode(status)
        if done in _LIFELINES:
            os.close(_LIFELINES.pop(done))
    return {"code": statuses.pop(req["pid"], None)}


def main() -> None:
    """Serve every client socket (one per grading worker) until all of them are closed."""
    import selectors

    global _OWN_PID_NS
    _OWN_PID_NS = os.open("/proc/self/ns/pid", os.O_RDONLY)
    _warm_up()
    sel = selectors.DefaultSelector()
    hello = json.dumps({"ready": True, "threads": _thread_count()}).encode()
    for fd in sys.argv[1].split(","):
        sock = socket.socket(fileno=int(fd))  # SOCK_SEQPACKET: one message per request and answer
        sock.send(hello)
        sel.register(sock, selectors.EVENT_READ)
    statuses: dict[int, int] = {}
    while sel.get_map():
        for key, _events in sel.select():
            sock = key.fileobj
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 3)
            except OSError:
                msg, fds = b"", []
            if not msg:  # that worker is done (or gone)
                sel.unregister(sock)
                sock.close()
                continue
            try:
                answer = _answer(json.loads(msg), fds, statuses)
            except Exception as exc:  # noqa: BLE001 - the grader hears why (and uses a fresh child)
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                sock.send(json.dumps(answer).encode())
            except OSError:
                pass


if __name__ == "__main__":
    main()
