"""One unprivileged uid per grading, leased exclusively (the design of Jobe and isolate).

As root, every child runs as a uid of its own, drawn from a range that no account and no
subordinate-id range uses (``COURSE_NN_UID_RANGE=START-END``; by default 1900000000-1900065535,
or 61000-64999 when the kernel maps only the usual 65536 ids into this container). Ids need no
account: ``setuid`` as root takes any mapped number.

A lease is an exclusive ``flock`` on a file in a folder only root can write: concurrent graders
(a batch's workers, another suite on the same machine) never hold the same uid, and a grader
killed with ``kill -9`` loses its lease with its life. Everything a uid owns is killed and
removed when its grading ends (cleanup.py), and the lock file then says ``clean``; a lease that
finds anything else there (a grader killed mid-grading) cleans the uid before using it. Cleaning
up by uid is safe only while the lease is held: nothing here ever cleans a uid it does not hold.
"""

from __future__ import annotations

import fcntl
import functools
import os
import random
import stat
from dataclasses import dataclass
from pathlib import Path

from course_nn.errors import UsageError

WIDE_RANGE = (1_900_000_000, 1_900_065_536)
NARROW_RANGE = (61_000, 65_000)  # below nobody (65534), above the usual account ids
LOCK_DIRS = ("/run/course-nn/uids", "/var/lib/course-nn/uids", "/tmp/.course-nn-uids")
CLEAN, IN_USE = b"clean\n", b"inuse\n"  # what a uid's lock file says (same length: rewritten in place)


def _mapped(lo: int, hi: int) -> bool:
    """Is every id in [lo, hi) mapped into this user namespace (usable by setuid and chown)?"""
    try:
        with open("/proc/self/uid_map") as fh:
            extents = [tuple(int(x) for x in line.split()) for line in fh if line.strip()]
    except OSError:
        return lo < 65536
    return any(inside <= lo and hi <= inside + count for inside, _outside, count in extents)


def _taken(lo: int, hi: int) -> str:
    """An account or subordinate-id range inside [lo, hi), named; '' when the range is free."""
    import pwd

    for entry in pwd.getpwall():
        if lo <= entry.pw_uid < hi:
            return f"the account {entry.pw_name!r} has uid {entry.pw_uid}"
    for name in ("/etc/subuid", "/etc/subgid"):
        try:
            lines = Path(name).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                start, count = int(parts[1]), int(parts[2])
                if start < hi and lo < start + count:
                    return f"{name} gives {parts[0]!r} ids {start}-{start + count - 1}"
    return ""


@functools.lru_cache(maxsize=1)
def uid_range() -> tuple[int, int]:
    """[start, end) of the grading uids; UsageError (one line, with the fix) when it is unusable."""
    text = os.environ.get("COURSE_NN_UID_RANGE", "")
    if text:
        try:
            lo, hi = (int(x) for x in text.split("-"))
            hi += 1
        except ValueError:
            raise UsageError(f"COURSE_NN_UID_RANGE={text!r}: expected START-END, e.g. 1900000000-1900065535") from None
    else:
        lo, hi = WIDE_RANGE if _mapped(*WIDE_RANGE) else NARROW_RANGE
    if not 0 < lo < hi or not _mapped(lo, hi):
        raise UsageError(f"the grading uids {lo}-{hi - 1} are not usable in this user namespace (see "
                         "/proc/self/uid_map); set COURSE_NN_UID_RANGE=START-END to a free mapped range")
    clash = _taken(lo, hi)
    if clash:
        raise UsageError(f"the grading uids {lo}-{hi - 1} must belong to no one, but {clash}; set "
                         "COURSE_NN_UID_RANGE=START-END to a range no account uses")
    return lo, hi


def _safe_dir(path: str) -> bool:
    """A folder that is root's alone (so no grading uid can remove or swap a lock file)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        return False
    parent = os.path.dirname(path)
    try:
        up = os.lstat(parent)
    except OSError:
        return False
    return up.st_uid == 0 and (not up.st_mode & 0o022 or bool(up.st_mode & stat.S_ISVTX))


@functools.lru_cache(maxsize=1)
def lock_dir() -> str:
    for path in LOCK_DIRS:
        if _safe_dir(path):
            return path
    raise UsageError(f"no root-only folder for the grading uids' locks ({', '.join(LOCK_DIRS)}); make one: "
                     f"mkdir -p -m 700 {LOCK_DIRS[0]}")


@dataclass
class Lease:
    """An exclusive hold on one grading uid (its gid is the same number); ``release`` gives it back."""

    uid: int
    fd: int

    @property
    def gid(self) -> int:
        return self.uid

    def release(self, clean: bool = False) -> None:
        """Give the uid back; ``clean``: nothing of it is left (the next lease need not look)."""
        if self.fd >= 0:
            if clean:
                os.pwrite(self.fd, CLEAN, 0)
            os.close(self.fd)  # the flock goes with the descriptor
            self.fd = -1


def _try(uid: int) -> int:
    """The locked descriptor of ``uid``'s lock file, or -1 when another grader holds it."""
    fd = os.open(os.path.join(lock_dir(), str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return -1


_START: list[int] = []  # where this grader process starts looking (drawn once)


def acquire() -> Lease:
    """Lease the first free uid from this process's starting point on (as isolate numbers its boxes:
    the few uids a grader uses are reused, each left clean by the grading before), cleaned first
    when its lock file does not say it was left clean (new, or its grader was killed mid-grading).

    The starting point is drawn at random once per process: uids are the kernel's, shared by every
    container on a host (each with its own lock folder), and a process count (RLIMIT_NPROC) is per
    uid, so two containers' graders should not start from the same uid."""
    from course_nn.grading.sandbox import cleanup

    lo, hi = uid_range()
    if not _START:
        _START.append(random.randrange(lo, hi))
    start = min(max(_START[0], lo), hi - 1)
    for uid in [*range(start, hi), *range(lo, start)]:
        fd = _try(uid)
        if fd >= 0:
            lease = Lease(uid, fd)
            if os.pread(fd, len(CLEAN), 0) != CLEAN:  # new, or its last grader died mid-grading
                cleanup.clean(lease, files=True)
            os.pwrite(fd, IN_USE, 0)
            return lease
    raise OSError(f"every grading uid {lo}-{hi - 1} is leased by a running grader")
