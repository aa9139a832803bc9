"""The child's own root, built in its new mount namespace (namespace mode only).

G, as (namespace) root in a fresh mount namespace, makes a new root that holds only what the child
needs: the system folders, the interpreter and torch, its sandbox, all read-only; a fresh small
/tmp, /var/tmp and /dev/shm; a minimal /dev; its own /proc. Then ``pivot_root`` lets go of the old
tree. Standard library only (it runs in contain.py, before student code).
"""

from __future__ import annotations

import ctypes
import os
import re

libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
# A remount of an inherited mount must keep its flags: inside a user namespace they are locked.
KEPT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
              "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}


def _call(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(text: str | None):
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _call(libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), f"mount {target}")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in a path as octal escapes (\\040 ...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mounts() -> dict[str, int]:
    """Every mount point and the per-mount flags it has now (MS_RDONLY included)."""
    found: dict[str, int] = {}
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            flags = 0
            for opt in fields[5].split(","):
                flags |= KEPT_FLAGS.get(opt, 0) | (MS_RDONLY if opt == "ro" else 0)
            found[_unescape(fields[4])] = flags
    return found


def _read_only(point: str, flags: int) -> None:
    mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & ~MS_RDONLY))


DEVICES = ("null", "zero", "full", "random", "urandom")  # and the GPU's, when there is one


def device_files() -> list[str]:
    """The device nodes a child may use: the harmless ones, and the GPU's when there is one."""
    names = [*DEVICES, *(d for d in os.listdir("/dev") if d.startswith("nvidia"))]
    return ["/dev/" + name for name in names if os.path.exists("/dev/" + name)]


SCRATCH_MOUNTS = ("/tmp", "/var/tmp", "/dev", "/dev/shm", "/proc")  # the only writable mounts
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}


def _bind_read_only(source: str, target: str) -> None:
    """``source`` (and what is mounted below it) at ``target``, read-only; a symbolic link (merged
    /usr: /bin -> usr/bin) is copied as a link."""
    if os.path.islink(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    for point, flags in _mounts().items():
        if point == target or point.startswith(target.rstrip("/") + "/"):
            try:
                _read_only(point, flags)
            except OSError:
                pass  # checked: the root and the working folder must end up read-only


def _pivot_root(new_root: str) -> None:
    """Make ``new_root`` the root of this mount namespace and let go of the old one entirely (not a
    chroot: nothing of the old tree stays reachable)."""
    import platform

    os.chdir(new_root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unknown system call number on {platform.machine()}")
    _call(libc.syscall(number, b".", b"."), "pivot_root")  # the old root now sits on top of the new one
    _call(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def mount_view(req: dict) -> None:
    """G, as (namespace) root in its new mount namespace: a new root that holds only what the child
    needs — the system folders, the interpreter and torch (``req["allow"]``), its sandbox — all
    read-only, with a fresh /tmp, /var/tmp and /dev/shm, a minimal /dev and its own /proc. Nothing
    else of the host exists for it: not the course, not other students, not the gradebook, not a
    socket in /run. ``req["hide_*"]`` still covers secrets that live inside an allowed folder."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = req["anchor"]
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for scratch in ("/tmp", "/var/tmp"):
        os.makedirs(new + scratch)
        mount("tmpfs", new + scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmpfs']},mode=1777")
    os.makedirs(new + "/dev")
    mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for device in device_files():
        _bind_read_only(device, new + device)
    os.makedirs(new + "/dev/shm")
    mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmpfs']},mode=1777")
    allowed = sorted(p for p in req["allow"] if os.path.lexists(p))
    for path in allowed:
        if not any(path.startswith(q.rstrip("/") + "/") for q in allowed if q != path):  # a parent is bound
            _bind_read_only(path, new + path)
    if req["box"]:
        _bind_read_only(req["box"], new + req["anchor"] + "/box")
    os.makedirs(new + "/proc", exist_ok=True)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this PID namespace's /proc
    for d in req["hide_dirs"]:
        if os.path.isdir(new + d):
            mount("tmpfs", new + d, "tmpfs", 0, "size=4k,mode=000")
    for f in req["hide_files"]:
        if os.path.isfile(new + f):
            mount("/dev/null", new + f, None, MS_BIND)
    _pivot_root(new)
    _read_only("/", _mounts().get("/", 0))
    for point in sorted(_writable(), reverse=True):  # a submount that refused to be read-only goes
        libc.umount2(point.encode(), MNT_DETACH)
    left = _writable() or ([req["workdir"]] if os.statvfs(req["workdir"]).f_flag & os.ST_RDONLY == 0 else [])
    if left:
        raise OSError(f"could not make {left[0]} read-only")


def _writable() -> list[str]:
    return [p for p, flags in _mounts().items() if not flags & MS_RDONLY and p not in SCRATCH_MOUNTS]
