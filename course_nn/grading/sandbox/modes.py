"""Which containment this machine allows, probed once per process by running the child's own setup.

The modes, the first whose probe succeeds (``COURSE_NN_CONTAINMENT=namespace|container`` forces
one: ``course-nn bench`` measures both):

- **namespace**: ``unshare`` works (a bare host, a privileged container, an ordinary user with user
  namespaces). PID, mount, network and IPC namespaces and an allow-listed root (child/mounts.py).
- **container**: root where namespaces are refused, as in a default Docker container (Gradescope).
  A uid of its own per grading (uids.py), Landlock where the kernel has it, seccomp, rlimits, a
  watchdog over every process of the uid, and everything the uid owns killed and removed after.
- **plain**: neither root nor namespaces: the child keeps the grader's uid; Landlock and seccomp
  where present.

Both root modes lease a uid per grading and run the same child/contain.py code; the probe runs
that code too (``contain.py --probe``) and checks from inside the child that every layer asked for
applied (its uid, PID 1 of its namespace, sockets refused, Landlock shutting a world-readable file
outside the allow-list, its scratch folder writable). When no mode's probe succeeds no child can
start here, and every grading is a grader error that says why — never a score.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from course_nn.errors import UsageError

MODES = ("namespace", "container")  # what COURSE_NN_CONTAINMENT may force ("auto": probe)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")


@dataclass(frozen=True)
class Containment:
    """The layers a child gets here, as the probe saw them applied."""

    mode: str  # "namespace", "container", "plain", or "" when no child can start here
    leases: bool  # root: each grading runs as a uid of its own (uids.py)
    userns: bool = False  # namespaces inside a user namespace (a grader without root)
    cgroup: str = ""  # "v1", "v2" or ""
    anchor: str = ""  # an empty folder the child's new root is built on (inside its mount namespace)
    seccomp: bool = False  # the child installs its seccomp filter (child/syscall_filter.py)
    landlock: int = 0  # the Landlock ABI the child restricts itself with (0: none; never with namespaces)
    error: str = ""  # why no child can start here
    fell_back: str = ""  # why an earlier mode was not used

    @property
    def namespaces(self) -> bool:
        return self.mode == "namespace"

    def describe(self, uid: int | None = None) -> str:
        """The containment line of the notes: exactly the layers that applied."""
        if not self.mode:
            return f"containment: none ({self.error})"
        parts = [f"{self.mode} mode" + (f" ({self.fell_back})" if self.fell_back else "")]
        if self.leases:
            parts.append(f"child runs as uid {uid}, leased to this grading alone (no groups; its sandbox folder is "
                         "its own, mode 0700)")
        elif os.geteuid() == 0:  # only a student's own check gets here (containment(student_check=True))
            parts.append("child runs as root, the current user (a student's own check: no unprivileged user can "
                         "run this interpreter; 'course-nn grade' refuses this)")
        else:
            parts.append("child runs as the grading user" + (" inside a user namespace" if self.userns else ""))
        if self.namespaces:
            parts.append("PID, mount, network and IPC namespaces (a new root holding only the system, the "
                         "interpreter and the sandbox, read-only; private /tmp)")
        elif self.landlock:
            parts.append(f"no namespaces; Landlock ABI {self.landlock}: reads only the system, the interpreter, "
                         "torch and its sandbox, writes only its own scratch folder, no TCP"
                         + ("; signals and abstract unix sockets scoped to itself" if self.landlock >= 6 else ""))
        else:
            parts.append("no namespaces; no Landlock (the kernel lacks it): files are protected by permissions only")
        parts.append(f"cgroup {self.cgroup} memory and process limits" if self.cgroup else
                     "no cgroup: a memory watchdog sums every process of " + ("its uid" if self.leases else "its tree"))
        parts.append("rlimits: " + ("NPROC, " if self.leases else "") + "FSIZE, NOFILE, CORE, AS")
        parts.append("no capabilities, no_new_privs")
        parts.append("seccomp: no sockets, SysV/POSIX IPC, io_uring, ptrace, keyrings or page-cache probes"
                     if self.seccomp else "no seccomp filter here (sockets, IPC and the keyrings stay open)")
        if self.leases:
            parts.append("afterwards every process of its uid is killed" + (
                "" if self.namespaces else ", and what it left in /tmp, /var/tmp, /dev/shm and the other "
                                           "world-writable folders and its SysV IPC removed"))
        return "containment: " + "; ".join(parts)


def _world_reachable(path: Path) -> bool:
    path = path.resolve()
    try:
        if not all(os.stat(parent).st_mode & 0o001 for parent in path.parents):
            return False
        return bool(os.stat(path).st_mode & 0o004)
    except OSError:
        return False


def _check_interpreter() -> None:
    """As root, the child runs as an unprivileged uid: refuse when it cannot run the interpreter."""
    torch_spec = importlib.util.find_spec("torch")
    needed = [Path(sys.executable)] + ([Path(torch_spec.origin)] if torch_spec and torch_spec.origin else [])
    unreachable = [str(p) for p in needed if not _world_reachable(p)]
    if unreachable:
        raise UsageError(
            f"grading as root runs student code as unprivileged users (uids of their own, like 'nobody'), who "
            f"cannot reach {unreachable[0]}; build the grader's environment from an interpreter every user can "
            "run, in a folder every user can read (e.g. /usr/bin/python3 -m venv /opt/course-nn; chmod -R a+rX "
            "/opt/course-nn), as Gradescope's /autograder/venv is — see docs/security.md")


def _anchor() -> str:
    return next((d for d in ("/mnt", "/media", "/srv", "/opt") if os.path.isdir(d)), "")


@functools.lru_cache(maxsize=1)
def allowed_paths() -> tuple[str, ...]:
    """All a child may read besides its sandbox: the system folders, and the interpreter and torch
    wherever they are installed (a venv under /tmp, as in CI, is carried over the fresh /tmp; every
    site-packages on the path, so a venv that reaches torch through another's .pth still does)."""
    spec = importlib.util.find_spec("torch")
    needed = {*SYSTEM_DIRS, sys.prefix, sys.base_prefix, str(Path(sys.prefix).resolve()),
              str(Path(sys.executable).resolve().parent.parent),
              *(p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p))}
    if spec and spec.origin:
        needed.add(str(Path(spec.origin).resolve().parents[1]))
    return tuple(sorted(needed))


def forced_mode() -> str:
    value = os.environ.get("COURSE_NN_CONTAINMENT", "auto").strip() or "auto"
    if value != "auto" and value not in MODES:
        raise UsageError(f"COURSE_NN_CONTAINMENT={value!r}: expected auto, {' or '.join(MODES)}")
    return "" if value == "auto" else value


def _run_probe(c: Containment) -> tuple[dict | None, str]:
    """Start a child of containment ``c`` with contain.py --probe; what it saw, or why it failed."""
    from course_nn.grading.sandbox import child, cleanup, uids
    from course_nn.grading.sandbox.box import prepare

    lease = uids.acquire() if c.leases else None
    box = prepare(None, "probe.py", lease.uid if lease else None)
    outside = Path(tempfile.mkdtemp(prefix="course-nn-canary-"))
    try:
        outside.chmod(0o755)
        (outside / "canary").write_text("world-readable, outside the allow-list")
        (outside / "canary").chmod(0o644)
        req = child.request(c, box, [], [], lease, canary=str(outside / "canary"))
        proc = child.run_contain(req, "--probe", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        if lease is not None:
            stuck = cleanup.clean(lease, files=not c.namespaces)[1]
            lease.release(clean=not stuck)
        box.cleanup()
        shutil.rmtree(outside, ignore_errors=True)
    if proc.returncode != 0 or not out.strip():
        last = (err.decode(errors="replace").strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        last = last.replace("the grader could not start the child: ", "")
        return None, re.sub(r"^\w+Error: \[Errno \d+\] ", "", last)
    seen = json.loads(out.decode().strip().splitlines()[-1])
    wrong = [what for what, bad in (
        ("its uid", lease is not None and seen.get("uid") != lease.uid),
        ("its PID namespace", c.namespaces and seen.get("pid") != 1),
        ("the seccomp filter", c.seccomp and (not seen.get("seccomp") or seen.get("socket"))),
        ("Landlock", bool(c.landlock) and (seen.get("landlock") != c.landlock or seen.get("canary_read"))),
        ("its scratch folder", not c.namespaces and not seen.get("scratch_written"))) if bad]
    return (None, "the child's " + ", ".join(wrong) + " did not apply") if wrong else (seen, "")


def _probe(mode: str, root: bool, leases: bool) -> tuple[Containment | None, str]:
    from course_nn.grading.child import landlock, syscall_filter
    from course_nn.grading.sandbox import cgroups

    if mode == "container" and not leases:
        return None, "it needs root (each grading runs as a uid of its own)"
    c = Containment(mode, leases, userns=mode == "namespace" and not root, cgroup=cgroups.probe(),
                    anchor=_anchor() if mode == "namespace" else "", seccomp=syscall_filter.available(),
                    landlock=0 if mode == "namespace" else landlock.abi())
    if mode == "namespace" and not c.anchor:
        return None, "no empty folder (/mnt, /media, /srv, /opt) to build the child's root on"
    seen, why = _run_probe(c)
    if seen is None and c.landlock:  # Landlock there but refused: every other layer may still hold
        without = replace(c, landlock=0)
        seen, why_without = _run_probe(without)
        if seen is not None:
            return replace(without, fell_back=f"Landlock ABI {c.landlock} refused: {why}"), ""
    return (c, "") if seen is not None else (None, why)


def refusal() -> str | None:
    """Why grading here would be refused (root, and no unprivileged user can run this interpreter), else None."""
    if os.geteuid() != 0:
        return None
    try:
        _check_interpreter()
    except UsageError as err:
        return str(err)
    return None


def containment(student_check: bool = False) -> Containment:
    """Probe once what this machine allows. UsageError when root cannot hand the child an
    interpreter or a free uid range; a Containment with ``error`` when no child can start here.

    ``student_check`` (a student checking their own file, visible cases only): where root cannot
    hand the interpreter to another uid, the child runs as root with every other layer instead.

    Once per value of ``student_check``, however it is passed: ``containment()`` and ``containment(False)``
    are one probe (a batch asked both ways and probed twice, 0.1 s before its zygote could start)."""
    return _containment(bool(student_check))


@functools.lru_cache(maxsize=2)
def _containment(student_check: bool) -> Containment:
    root = os.geteuid() == 0
    leases = root and not (student_check and refusal() is not None)
    forced = forced_mode()
    if leases:
        from course_nn.grading.sandbox import uids

        _check_interpreter()
        uids.uid_range()
        uids.lock_dir()
    order = [forced] if forced else ["namespace", "container" if leases else "plain"]
    tried: list[str] = []
    for mode in order:
        c, why = _probe(mode, root, leases)
        if c is not None:
            reason = "; ".join(tried)
            return replace(c, fell_back="; ".join(x for x in (reason, c.fell_back) if x))
        tried.append(f"{mode} mode failed: {why}")
    return Containment("", leases, error="no sandboxed child can start here (" + "; ".join(tried) + ")")


containment.cache_clear = _containment.cache_clear  # type: ignore[attr-defined]  # tests probe afresh


def ready(hide: list[Path] | tuple[Path, ...] = (), student_check: bool = False) -> Containment:
    """``containment()``, refusing (UsageError, one line with the fix) when a child could read what
    it must not: the course's secrets, or ``hide`` (container mode; see hidden.py)."""
    from course_nn.grading.sandbox import hidden

    c = containment(student_check)
    hidden.refuse_open(c, [Path(p) for p in hide], (*allowed_paths(), "/proc"))
    return c
