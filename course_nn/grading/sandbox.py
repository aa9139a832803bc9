"""The sandbox: where a submission runs, as whom, and what the kernel lets it reach.

The trust boundary is drawn by the OS, not by Python. A submission runs in a child process that
holds nothing scoring depends on; the parent issues the cases, reads one framed result per case
and scores alone. Layers, each used where the kernel allows it (probed once per process, and
written into the instructor notes of every result):

- **another user**: when the grader is root (Gradescope), the child runs as ``nobody``: it cannot
  signal the grader, read its memory or write its files. Root with an interpreter ``nobody``
  cannot reach is refused: student code never runs as root.
- **namespaces** (``unshare(2)``, done by child/contain.py for every child): a PID namespace (the
  child sees only its own processes; every descendant dies with it), no network, and a new root
  built from an allow-list — the system folders, the interpreter and torch, its sandbox, all
  read-only, with fresh small /tmp, /var/tmp and /dev/shm: the course, other students' work, the
  gradebook and the host's sockets are not in its world at all, and secrets inside an allowed
  folder are covered. Without root this uses a user namespace, with every capability dropped
  before student code starts; a seccomp filter shuts the kernel keyrings either way.
- **a cgroup** per child (v1 or v2): memory and process limits for the whole tree.
- **rlimits** always: processes (as ``nobody``), file size, open files, no core dumps; the child
  caps its own address space after importing torch.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pwd
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from course_nn.errors import UsageError
from course_nn.grading.child import framing

CHILD_DIR = Path(__file__).with_name("child")
CHILD_FILES = ("runner.py", "framing.py", "probe_hw1.py", "probe_hw2.py")
ZYGOTE = CHILD_DIR / "zygote.py"
CONTAIN = CHILD_DIR / "contain.py"
OUTPUT_CAP = 64 * 1024  # what the submission prints, kept for the instructor (and capped)
NPROC = 256  # processes and threads of the sandbox user (torch needs a few threads)
FSIZE = 64 * 1024 * 1024  # largest file the child may write (its /tmp is a small tmpfs anyway)
NOFILE = 256
TMPFS = "64m"
CGROUP_PIDS = 128
CGROUP_FS = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "course-nn-"  # every child's group; what sweep_stale_cgroups may remove
CGROUP_HEADROOM = 1536 * 1024 * 1024  # torch itself, on top of the submission's memory allowance
SANDBOX_USERS = ("nobody",)


@dataclass(frozen=True)
class Containment:
    """The layers the kernel allows here, probed once."""

    user: str | None  # the unprivileged user the child runs as (when we are root)
    uid: int | None
    gid: int | None
    namespaces: bool  # pid + mount + net + ipc (+ user when not root)
    userns: bool
    cgroup: str  # "v1", "v2" or ""
    anchor: str  # an empty folder the child's new root is built on (inside its mount namespace)
    seccomp: bool = False  # the child can install its seccomp filter (keyrings, page-cache probes)

    def describe(self) -> str:
        if self.user:
            parts = [f"child runs as {self.user!r} (uid {self.uid})"]
        elif os.geteuid() == 0:  # only a student's own check gets here (containment(student_check=True))
            parts = ["child runs as root, the current user (a student's own check: no unprivileged user can "
                     "run this interpreter; 'course-nn grade' refuses this)"]
        else:
            parts = ["child runs as the grading user (not root)"]
        if self.namespaces:
            parts.append("PID, mount, network and IPC namespaces" + (" inside a user namespace" if self.userns else "")
                         + " (a new root holding only the system, the interpreter and the sandbox, read-only; "
                           "private /tmp; no network)")
        else:
            parts.append("no namespaces (unshare unavailable or refused): a detached process is killed by the "
                         "subreaper, secrets are protected by file permissions only")
        parts.append(f"cgroup {self.cgroup} memory and process limits" if self.cgroup else "no cgroup")
        parts.append("rlimits: " + ("NPROC, " if self.user else "") + "FSIZE, NOFILE, CORE, AS")
        parts.append("no capabilities" + ("; seccomp: kernel keyrings and page-cache probes shut" if self.seccomp
                                          else "; kernel keyrings open (no seccomp filter here)"))
        return "containment: " + "; ".join(parts)


def _world_reachable(path: Path) -> bool:
    path = path.resolve()
    try:
        if not all(os.stat(parent).st_mode & 0o001 for parent in path.parents):
            return False
        return bool(os.stat(path).st_mode & 0o004)
    except OSError:
        return False


def _sandbox_user() -> tuple[str, int, int]:
    """The unprivileged user for a child when we are root; refuse when it cannot run the interpreter."""
    for name in SANDBOX_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        torch_spec = importlib.util.find_spec("torch")
        needed = [Path(sys.executable)] + ([Path(torch_spec.origin)] if torch_spec and torch_spec.origin else [])
        unreachable = [str(p) for p in needed if not _world_reachable(p)]
        if unreachable:
            raise UsageError(
                f"grading as root runs student code as the unprivileged user {name!r}, who cannot reach "
                f"{unreachable[0]}; build the grader's environment from an interpreter every user can run, in a "
                "folder every user can read (e.g. /usr/bin/python3 -m venv /opt/course-nn; chmod -R a+rX "
                "/opt/course-nn), as Gradescope's /autograder/venv is — see docs/security.md")
        return name, entry.pw_uid, entry.pw_gid
    raise UsageError("grading as root needs an unprivileged user to run student code as, and this machine has no "
                     "'nobody'; create one (useradd --system nobody) or grade as an ordinary user")


def _anchor() -> str:
    return next((d for d in ("/mnt", "/media", "/srv", "/opt") if os.path.isdir(d)), "")


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")


@functools.lru_cache(maxsize=1)
def allowed_paths() -> tuple[str, ...]:
    """All a child's new root holds besides its sandbox: the system folders, and the interpreter and
    torch wherever they are installed (a venv under /tmp, as in CI, is carried over the fresh /tmp)."""
    spec = importlib.util.find_spec("torch")
    needed = {*SYSTEM_DIRS, sys.prefix, sys.base_prefix, str(Path(sys.prefix).resolve()),
              str(Path(sys.executable).resolve().parent.parent)}
    if spec and spec.origin:
        needed.add(str(Path(spec.origin).resolve().parents[1]))
    return tuple(sorted(needed))


def _run_contain(req: dict, *args: str, **popen) -> subprocess.Popen:
    """``python -I -B contain.py ARGS FD``, the request written to it on pipe FD."""
    import json

    r, w = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-I", "-B", str(CONTAIN), *args, str(r)], pass_fds=(r,), cwd="/",
                                env=child_env(req["workdir"]), start_new_session=True, **popen)
    finally:
        os.close(r)
    with os.fdopen(w, "wb") as fh:  # a few KiB: the pipe holds it whether or not the child reads yet
        fh.write(json.dumps(req).encode())
    return proc


def _probe_namespaces(c: Containment) -> bool:
    """Do the child's namespaces, mounts and privilege drop work here? (contain.py --probe: the same
    code a real child runs, ending before the runner.)"""
    if not c.anchor:
        return False
    req = request(c, None, [], "/", [], {})
    try:
        proc = _run_contain(req, "--probe", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        return proc.wait(timeout=15) == 0
    except (OSError, subprocess.SubprocessError):
        return False


def request(c: Containment, sandbox: Sandbox | None, hide: list[Path], workdir: str, cgroup_procs: list[str],
            rlimits: dict[str, int]) -> dict:
    """What contain.py needs to build a child's containment (fresh, or forked by the zygote)."""
    dirs, files = _split(hide)
    return {"op": "fork", "namespaces": c.namespaces, "userns": c.userns, "anchor": c.anchor,
            "box": str(sandbox.box) if sandbox else None, "tmpfs": TMPFS, "hide_dirs": dirs, "hide_files": files,
            "workdir": workdir, "uid": c.uid, "gid": c.gid, "env": child_env(workdir), "rlimits": rlimits,
            "cgroup_procs": cgroup_procs, "allow": list(allowed_paths()),
            "seccomp": c.seccomp, "parent": os.getpid(),  # a fresh child checks it still has this parent once it can die with it
            "runner": sandbox.view(c, sandbox.box / "runner" / "runner.py") if sandbox else "",
            "target": sandbox.view(c, sandbox.target) if sandbox else ""}


def _probe_cgroup() -> str:
    if os.geteuid() != 0:
        return ""
    group = Cgroup.create("", 64 << 20, 8)
    if group is None:
        return ""
    group.remove()
    sweep_stale_cgroups()
    return group.version


STALE_CGROUP_SECONDS = 600  # far longer than any one child lives (its task limit is seconds)


def sweep_stale_cgroups(roots: tuple[str, ...] | None = None) -> int:
    """Remove the empty cgroups that graders killed outright (kill -9) had no chance to remove.
    Only old ones: a concurrent grader's new cgroup is empty for a moment before its child joins."""
    if roots is None:
        roots = tuple(str(parent) for layout in Cgroup.layouts().values() for parent, _ in layout)
    removed = 0
    for root in roots:
        for group in Path(root).glob(f"{CGROUP_PREFIX}*"):
            try:
                if time.time() - group.stat().st_mtime > STALE_CGROUP_SECONDS and \
                        not (group / "cgroup.procs").read_text().strip():
                    group.rmdir()
                    removed += 1
            except OSError:
                continue
    return removed


def refusal() -> str | None:
    """Why grading here would be refused (root, and no unprivileged user can run this interpreter), else None."""
    if os.geteuid() != 0:
        return None
    try:
        _sandbox_user()
    except UsageError as err:
        return str(err)
    return None


@functools.lru_cache(maxsize=2)
def containment(student_check: bool = False) -> Containment:
    """Probe once what this machine allows; raises UsageError when root cannot drop to another user,
    unless ``student_check`` (a student checking their own file): then the child runs as root."""
    if os.geteuid() != 0 or (student_check and refusal() is not None):
        user, uid, gid = None, None, None
    else:
        user, uid, gid = _sandbox_user()
    base = Containment(user, uid, gid, False, os.geteuid() != 0, "", _anchor())
    namespaces = _probe_namespaces(base)
    return Containment(user, uid, gid, namespaces, base.userns and namespaces, _probe_cgroup(), base.anchor,
                       _seccomp_filters())


def _seccomp_filters() -> bool:
    """The kernel has seccomp (its status line exists) and contain.py knows this machine's calls."""
    import platform

    from course_nn.grading.child.contain import FILTERED_CALLS

    try:
        with open("/proc/self/status") as fh:
            has = any(line.startswith("Seccomp:") for line in fh)
    except OSError:
        has = False
    return has and platform.machine() in FILTERED_CALLS


# ----------------------------------------------------------------------------------------------
# cgroups: memory and process limits for a child's whole tree


class Cgroup:
    def __init__(self, version: str, dirs: list[Path]):
        self.version, self.dirs = version, dirs

    @staticmethod
    def layouts(memory_bytes: int = 0, pids: int = 0) -> dict[str, list[tuple[Path, dict[str, int]]]]:
        """Where a child's groups go and what they limit: v2 one unified group, v1 one per controller."""
        return {"v2": [(CGROUP_FS, {"memory.max": memory_bytes, "pids.max": pids})],
                "v1": [(CGROUP_FS / "memory", {"memory.limit_in_bytes": memory_bytes}),
                       (CGROUP_FS / "pids", {"pids.max": pids})]}

    @classmethod
    def create(cls, version: str, memory_bytes: int, pids: int) -> Cgroup | None:
        name = f"{CGROUP_PREFIX}{secrets.token_hex(6)}"
        layouts = cls.layouts(memory_bytes, pids)
        order = [version] if version else (["v2"] if (CGROUP_FS / "cgroup.controllers").exists() else ["v1"])
        for ver in order:
            made: list[Path] = []
            try:
                for parent, settings in layouts[ver]:
                    path = parent / name
                    path.mkdir()
                    made.append(path)
                    for key, value in settings.items():
                        (path / key).write_text(str(value))
                return cls(ver, made)
            except OSError:
                for path in reversed(made):
                    try:
                        path.rmdir()
                    except OSError:
                        pass
        return None

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for f in self.procs_files():
            try:
                found |= {int(x) for x in Path(f).read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> None:
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


# ----------------------------------------------------------------------------------------------
# The folder a child runs in


@dataclass
class Sandbox:
    """A private folder (owner-only on the host) holding the runner files and the one submission file."""

    root: Path
    box: Path
    target: Path

    def view(self, c: Containment, path: Path) -> str:
        """``path`` as the child sees it (inside the namespace the box is mounted on the anchor)."""
        return str(Path(c.anchor) / "box" / path.relative_to(self.box)) if c.namespaces else str(path)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def prepare(submission: Path, filename: str, source: bytes | None = None) -> Sandbox:
    """Copy only the submission file (never following a link) and the runner into a fresh folder;
    with ``source``, write those bytes instead (the graded UTF-8 text, see submission.py).

    The root is 0700 (0711 without namespaces, so ``nobody`` can pass through to a box whose random
    name it cannot list): a concurrent grading cannot find another submission.
    """
    root = Path(tempfile.mkdtemp(prefix="course-nn-grade-"))
    box = root / f"box-{secrets.token_hex(8)}"
    (box / "runner").mkdir(parents=True)
    (box / "work").mkdir()
    for name in CHILD_FILES:
        shutil.copyfile(CHILD_DIR / name, box / "runner" / name)
    target = box / "work" / filename
    if source is not None:
        target.write_bytes(source)
    else:
        fd = os.open(submission, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    for p in (box, box / "runner", box / "work"):
        os.chmod(p, 0o755)
    for p in [target, *(box / "runner").iterdir()]:
        os.chmod(p, 0o644)
    os.chmod(root, 0o711)
    return Sandbox(root, box, target)


def child_env(home: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


# ----------------------------------------------------------------------------------------------
# One child process


def _ppid_map() -> dict[int, int]:
    found: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    found[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return found


def descendants(pid: int) -> set[int]:
    parents = _ppid_map()
    tree, frontier = {pid}, [pid]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier and p not in tree]
        tree.update(frontier)
    return tree


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def _split(hide: list[Path]) -> tuple[list[str], list[str]]:
    """Secret folders (covered by an empty tmpfs) and secret files (covered by /dev/null)."""
    return [str(p) for p in hide if p.is_dir()], [str(p) for p in hide if p.is_file()]


class Child:
    """One sandboxed child: launched, fed one job frame, read frame by frame, killed with its tree."""

    def __init__(self, sandbox: Sandbox, c: Containment, hide: list[Path], memory_bytes: int,
                 zygote: Zygote | None = None):
        self.cgroup = Cgroup.create(c.cgroup, memory_bytes + CGROUP_HEADROOM, CGROUP_PIDS) if c.cgroup else None
        self.fallback = ""  # why a fresh interpreter was started although a zygote was given
        if zygote is not None:
            try:
                self.proc = _ForkedProcess(zygote, self._request(sandbox, c, hide))
                self._start_reading()
                return
            except OSError as exc:
                self.fallback = f"zygote failed ({exc}); this child is a fresh interpreter"
        self.proc = _run_contain(self._request(sandbox, c, hide), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        self._start_reading()

    def _request(self, sandbox: Sandbox, c: Containment, hide: list[Path]) -> dict:
        limits = {"RLIMIT_FSIZE": FSIZE, "RLIMIT_NOFILE": NOFILE, "RLIMIT_CORE": 0}
        if c.user:
            limits["RLIMIT_NPROC"] = NPROC
        return request(c, sandbox, hide, sandbox.view(c, sandbox.target.parent),
                       self.cgroup.procs_files() if self.cgroup else [], limits)

    def _start_reading(self) -> None:
        self.buffer = b""
        self.output = bytearray()
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        self.base_rss = 0
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

    def rss(self) -> int:
        """Resident memory of the child's whole tree (forked helpers count too)."""
        pids = self.cgroup.pids() if self.cgroup else descendants(self.proc.pid)
        return sum(_rss(p) for p in pids)

    def read(self, deadline: float, memory_bytes: int) -> tuple[str, object]:
        """Next frame, or ("timeout"|"eof"|"memory"|"garbled", None)."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        last_check = 0.0
        try:
            while True:
                try:
                    payload, self.buffer = framing.split(self.buffer)
                    if payload is not None:
                        return "frame", framing.decode(payload)
                except framing.FrameError:
                    return "garbled", None
                now = time.monotonic()
                if now >= deadline:
                    return "timeout", None
                if memory_bytes and self.base_rss and now - last_check > 0.1:
                    last_check = now
                    if self.rss() > self.base_rss + memory_bytes:
                        return "memory", None
                if sel.select(timeout=min(0.05, deadline - now)):
                    chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                    if not chunk:
                        return "eof", None
                    self.buffer += chunk
        finally:
            sel.close()

    def kill(self) -> None:
        """Kill the child and everything it started (its namespace, cgroup and session)."""
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

    def exit_text(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "the process stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"the process was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        if code == 137:
            return "the process was killed (out of memory?)"
        return f"the process exited with status {code} (does your code call sys.exit, os._exit or quit?)"


# ----------------------------------------------------------------------------------------------
# The zygote: torch imported once per worker, one forked child per submission


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
        if os.getpid() == self.owner:
            return self.proc.poll() is None
        try:  # a worker cannot wait on its parent's child: ask the kernel instead
            os.kill(self.proc.pid, 0)
            return True
        except OSError:
            return False

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
    if sys.platform != "linux" or not hasattr(__import__("socket"), "send_fds"):
        return "zygote off: forking a contained child needs Linux"
    return ""


def start_zygote(c: Containment, clients: int = 1) -> tuple[Zygote | None, str]:
    """A zygote (stopped when this process exits), or None and why not. With ``clients`` > 1 it is
    shared by that many workers forked from this process (each calls ``adopt_zygote``)."""
    why = _zygote_off(c)
    if why:
        return None, why
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


class _ForkedProcess:
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
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass
        return self.returncode if self.returncode is not None else -signal.SIGKILL


# ----------------------------------------------------------------------------------------------
# Processes that outlive the child (only possible without a PID namespace)


PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Adopt orphaned descendants: a submission that double-forks and calls setsid is still ours to kill."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def protect_parent() -> bool:
    """Same-uid children may not read this process's memory (/proc/<pid>/mem) or ptrace it."""
    return _prctl(PR_SET_DUMPABLE, 0)


def own_children() -> set[int]:
    me = os.getpid()
    return {pid for pid, ppid in _ppid_map().items() if ppid == me}


def kill_strays(before: set[int], known: set[int] = frozenset(), seconds: float = 5.0) -> int:
    """Kill and reap every process adopted during grading, until none is left (or ``seconds`` pass).

    Returns how many were strays: processes outside the child's known tree (``known``, which a
    subreaper also adopts for a moment while the kernel tears a namespace down)."""
    killed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        strays = own_children() - before
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += pid not in known
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)
    return killed


def secret_paths(extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """What a child must never read: the course's solutions/ and tests/, the grader's own source,
    the hidden-case seed, and Gradescope's source/results folders."""
    from course_nn import paths

    found = [Path(__file__).resolve().parents[1]]  # the course_nn package (grader source)
    root = paths.repo_root(required=False)
    if root is not None:
        found += [root / "solutions", root / "tests", root / "course_nn", root / ".git"]  # git keeps every version
    if os.environ.get("COURSE_NN_HIDDEN"):
        found.append(Path(os.environ["COURSE_NN_HIDDEN"]))
    found += [Path("/autograder/source"), Path("/autograder/results"), Path("/autograder/submission"),
              Path("/autograder/submission_metadata.json")]
    found += [Path(p) for p in extra]
    out: list[Path] = []
    for p in found:
        p = p.resolve() if p.exists() else p
        if p.exists() and p not in out:
            out.append(p)
    return out
