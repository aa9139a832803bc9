"""The grader's own hold on processes a child leaves behind: the subreaper, and the child's tree.

Every mode makes the grader a child subreaper: a submission that double-forks and calls setsid is
reparented here, not to init, and is killed and reaped after the grading (``kill_strays``). When
the grader leases a uid (as root), killing by uid (cleanup.py) already ends every process; this
still reaps them. Without root and without namespaces (the child has the grader's uid) this and
the process tree are all there is.
"""

from __future__ import annotations

import os
import signal
import time


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


def _children(pid: int) -> set[int] | None:
    """``pid``'s children as the kernel lists them per thread (/proc/PID/task/TID/children), or None
    where it does not (a kernel without CONFIG_PROC_CHILDREN): a few small reads instead of every
    process's stat file (3 ms a look on a busy machine, three looks a grading)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return set()  # gone (or never there): no children, as in the table of every parent
    found: set[int] = set()
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.update(int(p) for p in fh.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # that thread ended
            return None
        except (OSError, ValueError):
            return None  # unreadable here: the full table decides, as before
    return found


def descendants(pid: int) -> set[int]:
    tree, frontier = {pid}, [pid]
    parents: dict[int, int] | None = None
    while frontier:
        found: set[int] = set()
        for p in frontier:
            kids = _children(p) if parents is None else None
            if kids is None:  # no per-thread lists here: the table of every process's parent
                parents = parents if parents is not None else _ppid_map()
                kids = {c for c, pp in parents.items() if pp == p}
            found |= kids
        frontier = [p for p in found if p not in tree]
        tree.update(frontier)
    return tree


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


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
    kids = _children(me)
    return kids if kids is not None else {pid for pid, ppid in _ppid_map().items() if ppid == me}


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
