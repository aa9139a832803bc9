"""A zygote: an interpreter that has imported torch once and forks one contained child per submission.

Started by the grader as ``python -I -B zygote.py FD`` (FD: its end of a socketpair), it imports
torch and the child's own code (runner, framing, probes — standard library and torch only) and
nothing else: no secret, no case, no reference ever reaches it. It runs no torch op, so no thread
pool exists when it forks (it reports its thread count; the grader falls back to fresh
interpreters when that is not 1). PrairieLearn's Python zygote is the model.

For each request (JSON, with the child's stdin/stdout/stderr passed as file descriptors) it forks
C, which joins the child's cgroup, sets rlimits, enters new mount/PID/network/IPC namespaces, and
forks G — PID 1 of the new namespace, killed with C — which mounts exactly what a fresh child's
``unshare`` + ``mount`` + ``setpriv`` chain would (read-only everything, private /tmp, secrets
covered), drops to the sandbox user, closes every other descriptor and runs the runner. The
grader talks to G through the pipes exactly as to a fresh child.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import socket
import sys

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
    import io

    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Quiet(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    class Pass(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    with Pass(), Quiet():
        y = Twice.apply(x)
        torch.autograd.grad(y, [x], torch.ones(3, dtype=torch.float64), retain_graph=True)
    with torch.no_grad():
        Twice.backward(y.grad_fn, torch.ones(3, dtype=torch.float64))
    buf = io.BytesIO()
    torch.save({"a": [x.detach()], "b": "c"}, buf)
    torch.load(io.BytesIO(buf.getvalue()), weights_only=True)


libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x08000000, 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


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


def _run_child(req: dict, fds: list[int], parent: int) -> None:
    """G: never returns."""
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() not in (parent, 0):  # C is already gone (0: C is outside our PID namespace)
            os._exit(1)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 65536)  # the zygote's socket and every other descriptor stay behind
        if req["namespaces"]:
            contain(req)
        os.chdir(req["workdir"])
        if req["uid"] is not None:
            os.setgroups([])
            os.setgid(req["gid"])
            os.setuid(req["uid"])
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
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


def spawn(req: dict, fds: list[int]) -> int:
    """Fork C (which forks G); returns C's pid."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        for procs in req["cgroup_procs"]:
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))
        _limits(req)
        if req["namespaces"]:
            _call(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
        me = os.getpid()
        child = os.fork()
        if child == 0:
            _run_child(req, fds, me)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    except BaseException as exc:  # noqa: BLE001
        try:
            os.write(fds[2], f"zygote could not start the child: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
        os._exit(111)


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def main() -> None:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the grader
    _warm_up()
    sock = socket.socket(fileno=int(sys.argv[1]))  # SOCK_SEQPACKET: one message per request and answer
    sock.send(json.dumps({"ready": True, "threads": _thread_count()}).encode())
    statuses: dict[int, int] = {}
    while True:
        msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 3)
        if not msg:
            return
        req = json.loads(msg)
        if req["op"] == "fork":
            pid = spawn(req, fds)
            for fd in fds:
                os.close(fd)
            answer = {"pid": pid}
        else:
            while True:  # reap every finished child, remember its status
                try:
                    done, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if done == 0:
                    break
                statuses[done] = os.waitstatus_to_exitcode(status)
            answer = {"code": statuses.pop(req["pid"], None) if req["pid"] in statuses else None}
        sock.send(json.dumps(answer).encode())


if __name__ == "__main__":
    main()
