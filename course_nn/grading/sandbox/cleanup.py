"""Everything a leased uid owns: its processes, its memory, its files and IPC objects — and their end.

Only for a uid this process leases (uids.py): nothing else ever runs as it, so whatever it owns
belongs to the grading that holds it. After the run, every process of that uid is killed until
none is left, whatever double-forked, re-grew or detached (``kill(-1)`` from a helper that has
become the uid is atomic against ``fork``: the kernel signals every process of the uid under one
lock); its SysV IPC objects are removed; and in container mode (no private /tmp) every file it
owns in the world-writable folders is deleted. The memory watchdog sums every process of the
uid, not only the child's tree, so a detached helper still counts.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import signal
import stat
import time

STATE_DEAD = ("Z", "X")  # a zombie holds no memory and runs nothing
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock", "/var/crash", "/run/shm")
SYSV = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}
IPC_RMID = 0
KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = 7, -4, -5


def _status(pid: str) -> dict[str, str]:
    with open(f"/proc/{pid}/status", "rb") as fh:
        text = fh.read().decode(errors="replace")
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def processes_of(uid: int, thorough: bool = True) -> dict[int, int]:
    """Live processes whose real uid is ``uid``: pid -> resident bytes. Thorough: every process's
    /proc/PID/status is read (a process that made itself non-dumpable shows its /proc folder as
    root's); otherwise only the folders ``uid`` owns (a fraction of the cost: the watchdog's
    frequent look, with a thorough one every few)."""
    found: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if not thorough and entry.stat().st_uid != uid:
                continue
            fields = _status(entry.name)
            if int(fields["Uid"].split()[0]) != uid or fields.get("State", "?")[0] in STATE_DEAD:
                continue
            found[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return found


def memory_of(uid: int) -> int:
    """Resident memory of every process of ``uid`` together."""
    return sum(processes_of(uid).values())


def sysv_objects(uid: int) -> list[tuple[str, int]]:
    """SysV shared memory, message queues and semaphore sets that ``uid`` owns or created."""
    found = []
    for kind in SYSV:
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header = fh.readline().split()
                rows = [dict(zip(header, line.split())) for line in fh]
        except OSError:
            continue
        id_field = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
        found += [(kind, int(r[id_field])) for r in rows if uid in (int(r.get("uid", -1)), int(r.get("cuid", -1)))]
    return found


def _as_uid_kill_everything(uid: int, objects: list[tuple[str, int]]) -> None:
    """In a forked helper: become ``uid``, signal every process it may (all of the uid's and no
    other), remove the uid's IPC objects (their owner may; root without CAP_SYS_ADMIN may not) and
    empty its keyrings (they outlive every process of the uid; seccomp shuts them where it can)."""
    try:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        for _ in range(3):
            os.kill(-1, signal.SIGKILL)  # never hits this helper itself
        libc = ctypes.CDLL(None, use_errno=True)
        keyctl = KEYCTL.get(platform.machine())
        for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
            if keyctl is not None:
                libc.syscall(keyctl, KEYCTL_CLEAR, keyring)
        for kind, ident in objects:
            if kind == "sem":
                libc.semctl(ident, 0, IPC_RMID)
            else:
                getattr(libc, SYSV[kind])(ident, IPC_RMID, None)
    finally:
        os._exit(0)


def kill_all(uid: int, rounds: int = 50, thorough: bool = True, always: bool = False) -> tuple[int, int]:
    """Kill every process of ``uid`` until none is left, and remove its IPC objects. Returns
    (processes found alive, processes still alive at the end: only ones stuck in the kernel).
    Not ``thorough``: a first quick look (see processes_of) decides whether there is anything to kill
    (for namespace mode, where the PID and IPC namespaces ended everything already). ``always``:
    run the helper even when nothing is seen (its keyrings: without seccomp a child may fill them)."""
    alive = processes_of(uid, thorough)
    objects = sysv_objects(uid) if thorough else []
    found = len(alive)
    for round_ in range(rounds):
        if not alive and not objects and not (always and round_ == 0):
            return found, 0
        pid = os.fork()
        if pid == 0:
            _as_uid_kill_everything(uid, objects)
        os.waitpid(pid, 0)
        alive, objects = processes_of(uid), sysv_objects(uid)
        if alive:
            time.sleep(0.01)  # SIGKILL is delivered; a process in uninterruptible sleep takes a moment
    return found, len(alive)


def kill_listed(uid: int, pids) -> None:
    """SIGKILL each of ``pids`` that still runs as ``uid`` — through a pidfd, so a pid reused by
    another process meanwhile is never hit (the watchdog's emergency stop, from a thread)."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            if int(_status(str(pid))["Uid"].split()[0]) == uid:  # checked after the pidfd pinned it
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        except (OSError, KeyError, ValueError):
            pass
        finally:
            os.close(fd)


@functools.lru_cache(maxsize=1)
def scratch_places() -> tuple[str, ...]:
    """Where any uid may create files: the usual scratch folders, and every world-writable folder
    one or two levels below / (found once per process)."""
    found = {os.path.realpath(p) for p in SCRATCH if os.path.isdir(p)}
    tops = [e.path for e in os.scandir("/") if e.is_dir(follow_symlinks=False) and e.name not in ("proc", "sys")]
    for top in tops:
        try:
            below = [e.path for e in os.scandir(top) if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for path in (top, *below):
            try:
                if os.lstat(path).st_mode & 0o002:
                    found.add(path)
            except OSError:
                continue
    return tuple(sorted(found))


MAX_DEPTH = 64  # folders nested deeper are left (with Landlock the child cannot write there at all)


def _sweep(fd: int, uid: int, depth: int = 0) -> int:
    """Delete, below the open folder ``fd``, everything ``uid`` owns; descend only into folders the
    uid could write into. Everything by descriptor: a path swapped for a link meanwhile (by
    another grading's uid) can never lead a delete elsewhere."""
    removed = 0
    for entry in list(os.scandir(fd)):
        try:
            st = os.stat(entry.name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and (st.st_uid == uid or st.st_mode & 0o002) and depth < MAX_DEPTH:
            try:
                sub = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                continue
            try:
                removed += _sweep(sub, uid, depth + 1)
            finally:
                os.close(sub)
        if st.st_uid != uid:
            continue
        try:
            if stat.S_ISDIR(st.st_mode):
                os.rmdir(entry.name, dir_fd=fd)
            else:
                os.unlink(entry.name, dir_fd=fd)
            removed += 1
        except OSError:
            pass  # a folder of the uid holding another uid's file stays (and so does that file)
    return removed


def _old_sandboxes(place: str, uid: int) -> int:
    """Remove whole sandbox folders of ``uid`` that a grader killed mid-grading left in ``place``
    (box.py makes them ``course-nn-grade-*``, owned by the uid, holding the grader's own files)."""
    import shutil

    removed = 0
    for entry in os.scandir(place):
        try:
            if entry.name.startswith("course-nn-grade-") and entry.stat(follow_symlinks=False).st_uid == uid \
                    and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)  # descriptor-based on Linux: a link inside is removed, not followed
                removed += 1
        except OSError:
            continue
    return removed


def sweep_files(uid: int) -> int:
    """Delete every file and folder ``uid`` left in the scratch places. Returns how many."""
    removed = 0
    for place in scratch_places():
        try:
            fd = os.open(place, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            removed += _old_sandboxes(place, uid) + _sweep(fd, uid)
        finally:
            os.close(fd)
    return removed


def clean(lease, files: bool) -> tuple[int, int, int]:
    """Kill everything of the lease's uid, then (``files``) delete what it left in the scratch
    places. Returns (processes killed, processes that would not die, files removed)."""
    killed, stuck = kill_all(lease.uid, always=True)
    return killed, stuck, sweep_files(lease.uid) if files else 0
