"""The child's seccomp filter: the system calls no submission needs, refused with EPERM.

One filter for every mode. It shuts what neither a uid nor a namespace separates, and what a
container without namespaces would leave open:

- the kernel keyrings (``add_key``, ``request_key``, ``keyctl``): a uid's keyring outlives each
  grading, so a first submission could leave hidden inputs there for its resubmission;
- page-cache residency probes (``fadvise64``, ``readahead``, ``cachestat``, ``mincore``, and
  ``preadv2``/``pwritev2`` with RWF_NOWAIT): one grading could leave bits there for the next;
- the network: ``socket`` for every family (the child talks to the grader over inherited pipes;
  ``socketpair`` stays), and ``io_uring``, which can open sockets without ``socket``;
- SysV IPC and POSIX message queues (``shmget``, ``msgget``, ``semget``, ``mq_open``): objects
  that outlive the process that made them;
- other processes' memory (``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``).

Calls through another ABI (32-bit) kill the child; x32 calls are refused. x86_64 and aarch64 only
(the grader asks for the filter only there). Standard library only.
"""

from __future__ import annotations

import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)

REFUSED_NAMES = ("add_key", "request_key", "keyctl", "fadvise64", "readahead", "cachestat", "mincore",
                 "socket", "io_uring_setup", "io_uring_enter", "io_uring_register",
                 "shmget", "msgget", "semget", "mq_open",
                 "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd")
# Per architecture: the audit id of its native ABI, the numbers of REFUSED_NAMES (same order), and
# preadv2/pwritev2 (refused with RWF_NOWAIT only).
FILTERED_CALLS = {
    "x86_64": (0xC000003E, (248, 249, 250, 221, 187, 451, 27, 41, 425, 426, 427, 29, 68, 64, 240,
                            101, 310, 311, 438), (327, 328)),
    "aarch64": (0xC00000B7, (217, 218, 219, 223, 213, 451, 232, 198, 425, 426, 427, 194, 186, 190, 180,
                             117, 270, 271, 438), (286, 287)),
}
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, EPERM, X32_BIT, RWF_NOWAIT = 22, 2, 1, 0x40000000, 0x8
ARG5_LOW = 16 + 8 * 5  # seccomp_data: nr, arch, instruction pointer, then six 64-bit arguments


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def available() -> bool:
    """The kernel has seccomp (its status line exists) and this file knows the machine's calls."""
    try:
        with open("/proc/self/status") as fh:
            has = any(line.startswith("Seccomp:") for line in fh)
    except OSError:
        has = False
    return has and platform.machine() in FILTERED_CALLS


def program(audit: int, refused: tuple[int, ...], nowait: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The BPF program, written with labels and then resolved to relative jumps."""
    code: list[tuple[int, object, object, int]] = [
        (BPF_LD_W_ABS, 0, 0, 4), (BPF_JEQ_K, 1, 0, audit), (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (BPF_LD_W_ABS, 0, 0, 0), (BPF_JGE_K, "refuse", 0, X32_BIT)]  # another ABI: killed; x32: refused
    code += [(BPF_JEQ_K, "refuse", 0, nr) for nr in refused] + [(BPF_JEQ_K, "flags", 0, nr) for nr in nowait]
    code += [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    labels = {"flags": len(code)}
    code += [(BPF_LD_W_ABS, 0, 0, ARG5_LOW), (BPF_JSET_K, "refuse", 0, RWF_NOWAIT), (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    labels["refuse"] = len(code)
    code += [(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM)]
    return [(op, labels[jt] - i - 1 if isinstance(jt, str) else jt, jf, k) for i, (op, jt, jf, k) in enumerate(code)]


def install() -> None:
    """Install the filter for this process and its descendants (needs no_new_privs)."""
    import os

    prog = program(*FILTERED_CALLS[platform.machine()])
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
