"""Landlock: a process restricts itself (and every descendant) without privilege or namespace.

Used by a child when the kernel gives no namespaces (a default Docker container refuses
``unshare``, but allows the three Landlock calls): the child may read and execute only an
allow-list (the system folders, the interpreter, torch, its sandbox), write only inside its
sandbox's scratch folder, make no TCP connection, signal no process outside its own domain and
reach no abstract unix socket outside it. The ABI is probed at run time: each right exists only
from some ABI on, and a right the kernel does not know is neither handled nor granted.

Standard library only (it runs in contain.py, before student code).
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat

libc = ctypes.CDLL(None, use_errno=True)
# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self: one number on every
# architecture since they were added (the generic syscall table).
CREATE, ADD_RULE, RESTRICT = 444, 445, 446
ARCHES = ("x86_64", "aarch64")
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

# Filesystem rights, and the ABI that introduced each.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: REFER, 3: TRUNCATE, 5: IOCTL_DEV}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

READ = EXECUTE | READ_FILE | READ_DIR
SCRATCH = (READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_FIFO | MAKE_SYM
           | REFER | TRUNCATE)
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only rights a rule on a file may hold


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The kernel's Landlock ABI version (0: no Landlock, or another architecture)."""
    if platform.machine() not in ARCHES:
        return 0
    version = libc.syscall(CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(version, 0)


def fs_rights(version: int) -> int:
    """Every filesystem right the kernel of ABI ``version`` knows."""
    return sum(bits for since, bits in FS_BY_ABI.items() if version >= since)


def _fail(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"landlock {what}: {os.strerror(err)}")


def restrict(read: list[str], scratch: list[str], devices: list[str], version: int) -> int:
    """Restrict this process for good: read/execute ``read``, read and write ``scratch``, read
    and write (and ioctl) the device files ``devices``; nothing else of the file system; no TCP,
    and, from ABI 6, no signal and no abstract unix socket outside this domain. Needs
    no_new_privs. Returns ``version``; raises OSError when the kernel refuses."""
    handled = fs_rights(version)
    attr = _RulesetAttr(handled, (NET_BIND_TCP | NET_CONNECT_TCP) if version >= 4 else 0,
                        (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if version >= 6 else 0)
    # The whole struct on every ABI: a kernel that knows fewer fields accepts them while they are zero.
    ruleset = libc.syscall(CREATE, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _fail("create_ruleset")
    try:
        for paths, rights in ((read, READ), (scratch, SCRATCH), (devices, READ_FILE | WRITE_FILE | IOCTL_DEV)):
            for path in paths:
                _allow(ruleset, path, rights & handled)
        if libc.syscall(RESTRICT, ruleset, ctypes.c_uint32(0)) != 0:
            raise _fail("restrict_self")
    finally:
        os.close(ruleset)
    return version


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not there (or not reachable): nothing to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        if libc.syscall(ADD_RULE, ruleset, ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                        ctypes.c_uint32(0)) != 0:
            raise _fail(f"add_rule {path}")
    finally:
        os.close(fd)
