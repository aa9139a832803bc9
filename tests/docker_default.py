"""Run a command as root the way a default Docker container runs its process (the test suite's own
reproduction; CI has no Docker and may not have /opt/dd/docker_default_run).

    python tests/docker_default.py -- COMMAND [ARG...]

- capabilities: Docker's 14 defaults only (bounding, permitted and effective sets; inheritable
  and ambient empty), so the command and everything it execs has no CAP_SYS_ADMIN;
- no_new_privs (as /opt/dd/docker_default_run sets it too: a filter cannot be loaded without it);
- a seccomp filter that refuses with EPERM what moby's default profile refuses to such a
  container: unshare, setns, mount and the new mount API, umount2, pivot_root, clone with any
  CLONE_NEW* flag, the keyrings, bpf, perf_event_open, io_uring, kexec and modules, quotactl,
  open_by_handle_at, userfaultfd, pidfd_getfd, the NUMA policy calls, swap, reboot, the clock,
  the host name, and socket for AF_ALG and AF_VSOCK; clone3 gets ENOSYS (glibc then falls back
  to clone, as in a container).

Deliberately independent of the code under test (its own BPF, not the grader's). Unlike the
reference it is a deny-list for x86_64 and keeps the host's namespaces (no PID 1, no masked
/proc); tests/test_docker_default.py checks its answers against the reference's where that exists.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

libc = ctypes.CDLL(None, use_errno=True)

# Docker's default capabilities (moby daemon/pkg/oci/caps/defaults.go), by number.
DOCKER_CAPS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7,
               "SETPCAP": 8, "NET_BIND_SERVICE": 10, "NET_RAW": 13, "SYS_CHROOT": 18, "MKNOD": 27,
               "AUDIT_WRITE": 29, "SETFCAP": 31}
# x86_64 numbers of what the default profile refuses (EPERM) without CAP_SYS_ADMIN and friends.
REFUSED = {"unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "open_tree": 428,
           "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
           "add_key": 248, "request_key": 249, "keyctl": 250, "bpf": 321, "perf_event_open": 298,
           "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "fanotify_init": 300,
           "lookup_dcookie": 212, "quotactl": 179, "quotactl_fd": 443, "syslog": 103, "kexec_load": 246,
           "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
           "open_by_handle_at": 304, "userfaultfd": 323, "pidfd_getfd": 438, "mbind": 237, "set_mempolicy": 238,
           "migrate_pages": 256, "move_pages": 279, "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169,
           "settimeofday": 164, "clock_settime": 227, "vhangup": 153, "iopl": 172, "ioperm": 173,
           "sethostname": 170, "setdomainname": 171, "create_module": 174, "get_kernel_syms": 177,
           "query_module": 178, "nfsservctl": 180, "uselib": 134, "ustat": 136, "sysfs": 139, "_sysctl": 156}
CLONE, CLONE3, SOCKET = 56, 435, 41
CLONE_NEW_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
SOCKET_FAMILIES_REFUSED = (38, 40)  # AF_ALG, AF_VSOCK
AUDIT_X86_64 = 0xC000003E
EPERM, ENOSYS = 1, 38
LD_W, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT = 24, 38, 22, 47


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def drop_capabilities() -> None:
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    keep = set(DOCKER_CAPS.values())
    for cap in range(last + 1):
        if cap not in keep:
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    mask = sum(1 << cap for cap in keep)
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = mask & 0xFFFFFFFF
    data[1].effective = data[1].permitted = mask >> 32
    _check(libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), ctypes.byref(data)), "capset")


def program() -> list[tuple[int, int, int, int]]:
    """BPF: the native ABI's refused calls get EPERM (clone only with a CLONE_NEW* flag, socket only
    for the refused families), clone3 ENOSYS; everything else (and other ABIs) is allowed."""
    code: list[tuple] = [(LD_W, 0, 0, 4), (JEQ, 1, 0, AUDIT_X86_64), (RET, 0, 0, ALLOW), (LD_W, 0, 0, 0)]
    code += [(JEQ, "eperm", 0, nr) for nr in REFUSED.values()]
    code += [(JEQ, "enosys", 0, CLONE3), (JEQ, "clone", 0, CLONE), (JEQ, "socket", 0, SOCKET), (RET, 0, 0, ALLOW)]
    labels = {"clone": len(code)}
    code += [(LD_W, 0, 0, 16), (JSET, "eperm", 0, CLONE_NEW_FLAGS), (RET, 0, 0, ALLOW)]  # args[0], low word
    labels["socket"] = len(code)
    code += [(LD_W, 0, 0, 16)] + [(JEQ, "eperm", 0, family) for family in SOCKET_FAMILIES_REFUSED]
    code += [(RET, 0, 0, ALLOW)]
    labels["eperm"] = len(code)
    code += [(RET, 0, 0, ERRNO | EPERM)]
    labels["enosys"] = len(code)
    code += [(RET, 0, 0, ERRNO | ENOSYS)]
    return [(op, labels[jt] - i - 1 if isinstance(jt, str) else jt, jf, k) for i, (op, jt, jf, k) in enumerate(code)]


def install_filter() -> None:
    prog = program()
    filters = (_Filter * len(prog))(*[_Filter(*ins) for ins in prog])
    _check(libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(_Prog(len(prog), filters)), 0, 0), "seccomp")


def main(argv: list[str]) -> int:
    args = argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: docker_default.py -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    if os.geteuid() != 0 or platform.machine() != "x86_64":
        print("docker_default.py: needs root on x86_64", file=sys.stderr)
        return 2
    drop_capabilities()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    install_filter()
    os.execvp(args[0], args)
    return 127


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
