"""One sandboxed child: its request, its start (fresh or forked by the zygote), its frames, its
memory, its end, and why it ended.

The request (``request``) is the one definition of a child's setup that child/contain.py carries
out, for a fresh interpreter, a zygote's fork and the containment probe alike. While the child
runs, a watchdog thread sums the resident memory of everything that could be the child's: the
cgroup when there is one, else every process of its leased uid (detached helpers included), else
its process tree. When the child dies, ``death`` tells a cause the grader can prove (a memory
limit, the student's own exit or signal) from a kill it cannot explain.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from course_nn.grading.child import framing
from course_nn.grading.sandbox import cleanup
from course_nn.grading.sandbox.box import CHILD_DIR, Sandbox, child_env
from course_nn.grading.sandbox.cgroups import CGROUP_HEADROOM, CGROUP_PIDS, Cgroup
from course_nn.grading.sandbox.strays import descendants, rss

CONTAIN = CHILD_DIR / "contain.py"
OUTPUT_CAP = 64 * 1024  # what the submission prints, kept for the instructor (and capped)
NPROC = 128  # processes and threads of one grading's uid (torch needs a few threads)
FSIZE = 64 * 1024 * 1024  # largest file the child may write (its /tmp is a small tmpfs anyway)
NOFILE = 256
TMPFS = "64m"
WATCH_PERIOD = 0.1  # seconds between two measurements of the child's memory
THOROUGH_EVERY = 5  # by uid: every 5th look reads every process (non-dumpable ones hide their owner)


def _split(hide: list[Path]) -> tuple[list[str], list[str]]:
    """Secret folders (covered by an empty tmpfs) and secret files (covered by /dev/null)."""
    return [str(p) for p in hide if p.is_dir()], [str(p) for p in hide if p.is_file()]


def request(c, box: Sandbox, hide: list[Path], cgroup_procs: list[str], lease=None, canary: str = "") -> dict:
    """What contain.py needs to build a child's containment (fresh, forked by the zygote, or the probe)."""
    from course_nn.grading.sandbox.modes import allowed_paths

    limits = {"RLIMIT_FSIZE": FSIZE, "RLIMIT_NOFILE": NOFILE, "RLIMIT_CORE": 0}
    if lease is not None:
        limits["RLIMIT_NPROC"] = NPROC
    dirs, files = _split(hide)
    workdir = box.view(c, box.work)
    scratch = [] if c.namespaces else [str(box.scratch)]
    return {"op": "fork", "namespaces": c.namespaces, "userns": c.userns, "anchor": c.anchor,
            "box": str(box.box), "tmpfs": TMPFS, "hide_dirs": dirs, "hide_files": files, "workdir": workdir,
            "uid": lease.uid if lease else None, "gid": lease.gid if lease else None,
            "env": child_env(workdir, scratch[0] if scratch else ""), "rlimits": limits,
            "cgroup_procs": cgroup_procs, "allow": list(allowed_paths()), "seccomp": c.seccomp,
            "landlock": c.landlock, "scratch": scratch, "canary": canary,
            "parent": os.getpid(),  # a fresh child checks it still has this parent once it can die with it
            "runner": box.view(c, box.box / "runner" / "runner.py"), "target": box.view(c, box.target)}


def run_contain(req: dict, *args: str, **popen) -> subprocess.Popen:
    """``python -I -B contain.py ARGS FD``, the request written to it on pipe FD."""
    r, w = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-I", "-B", str(CONTAIN), *args, str(r)], pass_fds=(r,), cwd="/",
                                env=child_env(req["workdir"]), start_new_session=True, **popen)
    finally:
        os.close(r)
    with os.fdopen(w, "wb") as fh:  # a few KiB: the pipe holds it whether or not the child reads yet
        fh.write(json.dumps(req).encode())
    return proc


class Child:
    """One sandboxed child: launched, fed one job frame, read frame by frame, killed with its tree
    (what left the tree, the grading kills by uid: run.py)."""

    def __init__(self, box: Sandbox, c, hide: list[Path], memory_bytes: int, zygote=None, lease=None):
        if c.leases and lease is None:
            raise ValueError("a root grader's child runs as a leased uid: pass the grading's lease")
        self.lease = lease
        self.cgroup = Cgroup.create(c.cgroup, memory_bytes + CGROUP_HEADROOM, CGROUP_PIDS) if c.cgroup else None
        self.fallback = ""  # why a fresh interpreter was started although a zygote was given
        req = request(c, box, hide, self.cgroup.procs_files() if self.cgroup else [], lease)
        self.proc = None
        if zygote is not None:
            from course_nn.grading.sandbox.zygote_client import ForkedProcess

            try:
                self.proc = ForkedProcess(zygote, req)
            except OSError as exc:
                self.fallback = f"zygote failed ({exc}); this child is a fresh interpreter"
        if self.proc is None:
            self.proc = run_contain(req, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""
        self.output = bytearray()
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        self.base_rss = 0
        self.peak = 0  # the most memory the watchdog measured (bytes over the base)
        self.exceeded = 0  # what it measured when it stopped the child for memory (0: it did not)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.tree: set[int] = set()  # every pid seen in the child's tree when it was killed

    def _read_output(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):
            if len(self.output) < OUTPUT_CAP:
                self.output += chunk[: OUTPUT_CAP - len(self.output)]

    def send(self, obj: object) -> None:
        try:
            self.proc.stdin.write(framing.encode(obj))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    # -- memory ---------------------------------------------------------------------------------

    def measure(self, thorough: bool = True) -> tuple[int, list[int]]:
        """Resident memory of everything that is the child's, and those processes."""
        if self.cgroup is not None:
            pids = sorted(self.cgroup.pids())
            return sum(rss(p) for p in pids), pids
        if self.lease is not None:
            procs = cleanup.processes_of(self.lease.uid, thorough)
            return sum(procs.values()), sorted(procs)
        pids = sorted(descendants(self.proc.pid))
        return sum(rss(p) for p in pids), pids

    def rss(self) -> int:
        return self.measure()[0]

    def watch(self, memory_bytes: int) -> None:
        """From now on (the child is ready: torch is in its base), stop the child as soon as its
        memory passes the base by ``memory_bytes`` (0: no limit)."""
        self.base_rss = self.rss()
        if memory_bytes:
            self._watcher = threading.Thread(target=self._watch, args=(memory_bytes,), daemon=True)
            self._watcher.start()

    def _watch(self, memory_bytes: int) -> None:
        looks = 0
        while not self._stop.wait(WATCH_PERIOD):
            looks += 1
            used, pids = self.measure(thorough=looks % THOROUGH_EVERY == 0)
            self.peak = max(self.peak, used - self.base_rss)
            if used > self.base_rss + memory_bytes:
                self.exceeded = used
                if self.lease is not None:
                    cleanup.kill_listed(self.lease.uid, pids)
                self.proc.kill()
                return

    # -- frames -----------------------------------------------------------------------------------

    def read(self, deadline: float) -> tuple[str, object]:
        """Next frame, or ("timeout"|"eof"|"memory"|"garbled", None)."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                try:
                    payload, self.buffer = framing.split(self.buffer)
                    if payload is not None:
                        return "frame", framing.decode(payload)
                except framing.FrameError:
                    return "garbled", None
                now = time.monotonic()
                if self.exceeded:
                    return "memory", None
                if now >= deadline:
                    return "timeout", None
                if sel.select(timeout=min(0.05, deadline - now)):
                    chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                    if not chunk:
                        return ("memory", None) if self.exceeded else ("eof", None)
                    self.buffer += chunk
        finally:
            sel.close()

    # -- the end ----------------------------------------------------------------------------------

    def kill(self) -> None:
        """Kill the child and everything it started (its namespace, cgroup, session and uid)."""
        self._stop.set()
        self.tree = descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in self.tree - {self.proc.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
        self._drain.join(timeout=2)
        if self._watcher is not None:
            self._watcher.join(timeout=2)

    def _exit_code(self, wait: float = 2.0) -> int | None:
        deadline = time.monotonic() + wait
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.proc.poll()

    def death(self) -> tuple[str, str]:
        """Why the child ended: ("memory" | "student" | "unexplained", a line for people). Only a
        cause the grader can prove is the student's: a memory limit it measured (or the cgroup's
        own count), the student's own exit or a signal from inside; a SIGKILL without any of
        that came from outside."""
        code = self._exit_code()
        if self.exceeded:
            return "memory", f"the process used {self.exceeded / 2**30:.2f} GiB"
        if code is None:
            return "student", "the process stopped answering"
        if code >= 0:
            return "student", f"the process exited with status {code} (does your code call sys.exit, os._exit or quit?)"
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
        if -code != signal.SIGKILL:
            return "student", f"the process was killed by signal {name}"
        if self.cgroup is not None and self.cgroup.out_of_memory():
            return "memory", "the kernel stopped the process at its cgroup's memory limit"
        return "unexplained", (f"the process was killed by SIGKILL from outside the grader, with no sign of a "
                               f"memory limit (cgroup: {'none' if self.cgroup is None else 'no OOM event'}; the "
                               f"watchdog measured at most {self.peak / 2**30:.2f} GiB over the base)")

    def exit_text(self) -> str:
        return self.death()[1]
