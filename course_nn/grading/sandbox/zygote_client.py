"""The zygote's client side: one long-lived ``child/zygote.py`` per batch, and the children it forks.

torch is imported once per batch (by the zygote), not once per student: each child is one fork of
an interpreter that has imported it, contained by the same contain.py code as a fresh child,
under the grading's own request (its uid, its sandbox, its limits). A zygote that cannot be used
(threads after its torch import, a fork that fails) falls back to fresh interpreters, and the
notes say so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from course_nn.grading.sandbox.box import CHILD_DIR, child_env

if TYPE_CHECKING:
    from course_nn.grading.sandbox.modes import Containment

ZYGOTE = CHILD_DIR / "zygote.py"


class Zygote:
    """A long-lived ``zygote.py`` process and a socket to ask it for children.

    ``clients`` sockets are made at once: a batch starts one zygote before it forks its grading
    workers, and each worker keeps one socket (``adopt``), so torch is imported once per batch,
    not once per worker.
    """

    def __init__(self, clients: int = 1):
        import json
        import socket

        self._json = json
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(clients)]
        self.clients = [ours for ours, _ in pairs]
        self.sock = self.clients[0]
        theirs = [t.fileno() for _, t in pairs]
        self.proc = subprocess.Popen([sys.executable, "-I", "-B", str(ZYGOTE), ",".join(map(str, theirs)), str(os.getpid())],
                                     pass_fds=theirs, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env("/"),
                                     start_new_session=True)
        for _, t in pairs:
            t.close()
        self.owner = os.getpid()  # only the process that started it may stop it
        self._threads: int | None = None  # read from its hello on first use, so its torch import overlaps ours

    def adopt(self, index: int) -> None:
        """In a forked worker: keep socket ``index``, close the others (they belong to other workers)."""
        for i, sock in enumerate(self.clients):
            if i != index:
                sock.close()
        self.sock = self.clients[index]
        self.clients = [self.sock]

    def alive(self) -> bool:
        """Still running? (A forked worker asks the kernel: it cannot wait on its parent's child.)"""
        if os.getpid() == self.owner:
            return self.proc.poll() is None
        try:  # a worker cannot wait on its parent's child: ask the kernel instead
            os.kill(self.proc.pid, 0)
            return True
        except OSError:
            return False

    def heard(self) -> bool:
        """Whether its hello has been read (it is ready: asking for a child will not wait for it)."""
        return self._threads is not None

    @property
    def threads(self) -> int:
        if self._threads is None:
            self.sock.settimeout(120)
            try:
                hello = self._json.loads(self.sock.recv(1 << 16) or b"{}")
            except (OSError, ValueError):
                hello = {}
            self._threads = int(hello.get("threads", 0))
            self.sock.settimeout(30)
        return self._threads

    def ask(self, request: dict, fds: list[int] = ()) -> dict:
        import socket

        if self.threads != 1:
            raise OSError(f"the zygote is not usable ({self.threads} threads after importing torch)")
        socket.send_fds(self.sock, [self._json.dumps(request).encode()], list(fds))
        answer = self.sock.recv(1 << 16)
        if not answer:
            raise OSError("the zygote is gone")
        answer = self._json.loads(answer)
        if "error" in answer:
            raise OSError(f"the zygote could not fork the child: {answer['error']}")
        return answer

    def close(self) -> None:
        for sock in self.clients:
            sock.close()
        if os.getpid() != self.owner:
            return
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()


_ZYGOTE: Zygote | None = None


def _zygote_off(c: Containment) -> str:
    if c.userns:
        return "zygote off: a user namespace is set up by a fresh interpreter (not root)"
    return _zygote_off_here()


def early_zygote(clients: int = 1) -> Zygote | None:
    """A zygote started before the machine is probed, where one can be used at all (a root grader on
    Linux), so that its torch import overlaps the probe; ``start_zygote(c, clients, early)`` then keeps
    it or stops it. It holds nothing of any grading until it is asked for a child."""
    if os.geteuid() != 0 or _zygote_off_here():
        return None
    try:
        z = Zygote(clients)
    except (OSError, ValueError):
        return None
    import atexit

    atexit.register(z.close)
    return z


def _zygote_off_here() -> str:
    if sys.platform != "linux" or not hasattr(__import__("socket"), "send_fds"):
        return "zygote off: forking a contained child needs Linux"
    return ""


def start_zygote(c: Containment, clients: int = 1, early: Zygote | None = None) -> tuple[Zygote | None, str]:
    """A zygote (stopped when this process exits), or None and why not. With ``clients`` > 1 it is
    shared by that many workers forked from this process (each calls ``adopt_zygote``). ``early``:
    one ``early_zygote`` started, kept when the containment ``c`` allows a zygote, else stopped."""
    why = _zygote_off(c)
    if why:
        if early is not None:
            early.close()
        return None, why
    if early is not None and early.alive():
        return early, ""
    try:
        z = Zygote(clients)
    except (OSError, ValueError) as exc:
        return None, f"zygote off: it did not start ({exc}); fresh interpreters used"
    import atexit

    atexit.register(z.close)
    return z, ""


def adopt_zygote(z: Zygote, index: int) -> None:
    """In forked worker ``index``: that worker's socket of the batch's shared zygote is its zygote."""
    global _ZYGOTE
    z.adopt(index)
    _ZYGOTE = z


def zygote_for(c: Containment, wait: bool = True) -> tuple[Zygote | None, str]:
    """This process's zygote (started on first use), or None and why a fresh interpreter is used.

    ``wait=False`` only starts it (a worker warming up while it imports torch itself)."""
    global _ZYGOTE
    why = _zygote_off(c)
    if why:
        return None, why
    if _ZYGOTE is not None and _ZYGOTE.alive() and (not wait or _ZYGOTE._threads is not None):
        return _ZYGOTE, ""
    if _ZYGOTE is None or not _ZYGOTE.alive():
        _ZYGOTE, why = start_zygote(c)
        if _ZYGOTE is None:
            return None, why
    if not wait:
        return _ZYGOTE, ""
    if _ZYGOTE.threads != 1:
        n = _ZYGOTE.threads
        _ZYGOTE.close()
        _ZYGOTE = None
        return None, f"zygote off: it had {n} threads after importing torch (forking is unsafe); fresh interpreters used"
    return _ZYGOTE, ""


class ForkedProcess:
    """What ``Child`` needs of a Popen, for a child the zygote forked."""

    def __init__(self, zygote: Zygote, request: dict):
        self.zygote = zygote
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        try:
            self.pid = int(zygote.ask(request, [stdin_r, stdout_w, stderr_w])["pid"])
        except BaseException:
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_r, stdout_w, stderr_w):
                os.close(fd)
        self.stdin = os.fdopen(stdin_w, "wb")
        self.stdout = os.fdopen(stdout_r, "rb", buffering=0)
        self.stderr = os.fdopen(stderr_r, "rb", buffering=0)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.zygote.ask({"op": "status", "pid": self.pid})["code"]
            except OSError:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def wait(self) -> int:
        deadline = time.monotonic() + 10
        exited = _exit_watch(self.pid)
        try:
            while self.poll() is None and time.monotonic() < deadline:
                exited(deadline)
        finally:
            exited(None)
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass
        return self.returncode if self.returncode is not None else -signal.SIGKILL


def _exit_watch(pid: int):
    """``wait(deadline)`` returns once ``pid`` has exited (or soon, or at the deadline); ``wait(None)`` lets go.

    The zygote reaps its children only when asked (``poll``), so until then the pid stays a zombie and names
    that child alone: a pidfd of it becomes readable the moment it exits, which spares polling the zygote
    every few milliseconds. Where pidfds are missing (an old kernel, a filter that refuses them), a short
    sleep between polls instead."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1

    def wait(deadline: float | None) -> None:
        nonlocal fd
        if deadline is None:
            if fd >= 0:
                os.close(fd)
                fd = -1
            return
        if fd < 0:
            time.sleep(0.005)
            return
        select.select([fd], [], [], max(0.0, min(0.5, deadline - time.monotonic())))

    return wait


def current_zygote() -> Zygote | None:
    """This process's zygote, if one was started (tests check it survives an attack)."""
    return _ZYGOTE
