"""One uid per grading, leased exclusively, and cleaned by uid only while the lease is held."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from test_security import needs_root

from course_nn.errors import UsageError
from course_nn.grading.sandbox import cleanup, uids

pytestmark = needs_root


def test_concurrent_graders_never_hold_the_same_uid():
    held = [uids.acquire() for _ in range(40)]
    try:
        assert len({lease.uid for lease in held}) == 40
        lo, hi = uids.uid_range()
        assert all(lo <= lease.uid < hi for lease in held)
        # another process (another grader) cannot take a uid this one holds...
        lock = os.path.join(uids.lock_dir(), str(held[0].uid))
        probe = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
                 "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('TAKEN')\n"
                 "except BlockingIOError:\n    print('BUSY')")
        assert subprocess.run([sys.executable, "-c", probe, lock], capture_output=True, text=True).stdout.strip() == "BUSY"
        held[0].release()
        # ...until it gives it back (or dies: the lock goes with its descriptor)
        assert subprocess.run([sys.executable, "-c", probe, lock], capture_output=True, text=True).stdout.strip() == "TAKEN"
    finally:
        for lease in held:
            lease.release()


def test_a_lease_first_kills_and_removes_what_a_killed_grader_left(monkeypatch):
    """A grader killed with kill -9 leaves its uid's processes and files; the next grader to lease
    that uid ends them before its child starts."""
    lo, _hi = uids.uid_range()
    uid = lo + 4321
    monkeypatch.setattr(uids, "uid_range", lambda: (uid, uid + 1))
    monkeypatch.setattr(uids, "_START", [uid])
    with open(os.path.join(uids.lock_dir(), str(uid)), "wb") as fh:
        fh.write(uids.IN_USE)  # what the killed grader's lease left in the lock file
    left = f"/tmp/course-nn-left-by-{uid}"
    from course_nn.grading.sandbox.box import prepare

    old_box = prepare(None, "functions.py", uid)  # the sandbox folder of the grading that was killed
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            open(left, "w").write("from the last grading")
            if os.fork() == 0:  # detached: not this test's child any more
                time.sleep(300)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 5
    while not cleanup.processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cleanup.processes_of(uid) and os.path.exists(left)
    lease = uids.acquire()
    try:
        assert lease.uid == uid
        assert not cleanup.processes_of(uid) and not os.path.exists(left) and not old_box.box.exists()
    finally:
        lease.release(clean=True)
    with open(os.path.join(uids.lock_dir(), str(uid)), "rb") as fh:
        assert fh.read() == uids.CLEAN  # a grading that ended cleanly: the next lease need not look


def test_a_range_someone_uses_is_refused_in_one_line(monkeypatch):
    uids.uid_range.cache_clear()
    monkeypatch.setenv("COURSE_NN_UID_RANGE", "65000-65534")  # nobody is 65534
    try:
        with pytest.raises(UsageError, match="'nobody'.*COURSE_NN_UID_RANGE"):
            uids.uid_range()
    finally:
        uids.uid_range.cache_clear()


def test_a_lock_folder_another_user_could_write_is_never_used(tmp_path, monkeypatch):
    """A grading uid that could create or swap lock files could make two graders share a uid."""
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o777)
    mine = tmp_path / "mine"
    assert not uids._safe_dir(str(loose))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 1_900_065_002, 1_900_065_002)
    assert not uids._safe_dir(str(theirs))
    tmp_path.chmod(0o755)
    assert uids._safe_dir(str(mine)) and (mine.stat().st_mode & 0o777) == 0o700


KEYCTL, ADD_KEY, KEYCTL_SEARCH, USER_KEYRING = 250, 248, 10, -4


@pytest.mark.skipif(__import__("platform").machine() != "x86_64", reason="x86_64 call numbers")
def test_the_clean_up_empties_the_uids_keyrings():
    """A uid's keyring outlives all its processes: without seccomp (which refuses the keyring calls)
    a grading could leave keys there for the next grading that leases the same uid."""
    import ctypes

    lo, _hi = uids.uid_range()
    uid = lo + 4322

    def as_uid(action: str) -> int:
        pid = os.fork()
        if pid == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            if action == "add":
                found = libc.syscall(ADD_KEY, b"user", b"course-nn-left", b"hidden inputs", 13, USER_KEYRING) >= 0
            else:
                found = libc.syscall(KEYCTL, KEYCTL_SEARCH, USER_KEYRING, b"user", b"course-nn-left", 0) >= 0
            os._exit(0 if found else 1)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    assert as_uid("add") == 0 and as_uid("search") == 0
    cleanup.kill_all(uid, always=True)
    assert as_uid("search") == 1
