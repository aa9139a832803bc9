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
- other processes' memory (``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``);
- SIGKILL aimed at the child itself (G) from inside the sandbox — by pid, by its process group,
  by ``kill(-1)`` or through the other signal calls — so that when G dies of SIGKILL the grader
  knows it came from outside (or from a memory limit), never from the submission: its own death
  is always a cause the grader can prove (an exit status, another signal), and a kill from
  outside is retried instead of scored.

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
# Per architecture: the audit id of its native ABI, the numbers of REFUSED_NAMES (same order),
# preadv2/pwritev2 (refused with RWF_NOWAIT only), and the signal calls: kill, tgkill, and
# {call: index of its signal argument} for tkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal.
FILTERED_CALLS = {
    "x86_64": (0xC000003E, (248, 249, 250, 221, 187, 451, 27, 41, 425, 426, 427, 29, 68, 64, 240,
                            101, 310, 311, 438), (327, 328), (62, 234, {200: 1, 129: 1, 297: 2, 424: 1})),
    "aarch64": (0xC00000B7, (217, 218, 219, 223, 213, 451, 232, 198, 425, 426, 427, 194, 186, 190, 180,
                             117, 270, 271, 438), (286, 287), (129, 131, {130: 1, 138: 1, 240: 2, 424: 1})),
}
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, EPERM, X32_BIT, RWF_NOWAIT = 22, 2, 1, 0x40000000, 0x8
SIGKILL = 9


def arg(i: int) -> int:
    """Offset of the low word of argument ``i`` in seccomp_data (nr, arch, ip, six 64-bit args)."""
    return 16 + 8 * i


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


def program(audit: int, refused: tuple[int, ...], nowait: tuple[int, ...], signals: tuple, guard: int
            ) -> list[tuple[int, int, int, int]]:
    """The BPF program, written with labels and then resolved to relative jumps. ``guard``: the pid
    no SIGKILL from inside may reach (the child itself)."""
    kill, tgkill, sig_at = signals
    code: list[tuple[int, object, object, int]] = [
        (BPF_LD_W_ABS, 0, 0, 4), (BPF_JEQ_K, 1, 0, audit), (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (BPF_LD_W_ABS, 0, 0, 0), (BPF_JGE_K, "refuse", 0, X32_BIT)]  # another ABI: killed; x32: refused
    code += [(BPF_JEQ_K, "refuse", 0, nr) for nr in refused] + [(BPF_JEQ_K, "flags", 0, nr) for nr in nowait]
    code += [(BPF_JEQ_K, "kill", 0, kill), (BPF_JEQ_K, "tgkill", 0, tgkill)]
    code += [(BPF_JEQ_K, f"sig{index}", 0, nr) for nr, index in sig_at.items()]
    code += [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    labels: dict[str, int] = {}
    allow = (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)

    def block(name: str, body: list) -> None:  # every block ends allowing what it did not refuse
        labels[name] = len(code)
        code.extend([*body, allow])

    block("flags", [(BPF_LD_W_ABS, 0, 0, arg(5)), (BPF_JSET_K, "refuse", 0, RWF_NOWAIT)])
    # kill(pid, SIGKILL) where pid is the child, its process group, every process (-1) or its own group (0)
    block("kill", [(BPF_LD_W_ABS, 0, 0, arg(1)), (BPF_JEQ_K, 1, 0, SIGKILL), allow, (BPF_LD_W_ABS, 0, 0, arg(0))]
          + [(BPF_JEQ_K, "refuse", 0, pid & 0xFFFFFFFF) for pid in (guard, 0, -1, -guard)])
    block("tgkill", [(BPF_LD_W_ABS, 0, 0, arg(2)), (BPF_JEQ_K, 1, 0, SIGKILL), allow, (BPF_LD_W_ABS, 0, 0, arg(0)),
                     (BPF_JEQ_K, "refuse", 0, guard)])
    for index in sorted(set(sig_at.values())):  # the other calls: no SIGKILL at all
        block(f"sig{index}", [(BPF_LD_W_ABS, 0, 0, arg(index)), (BPF_JEQ_K, "refuse", 0, SIGKILL)])
    labels["refuse"] = len(code)
    code.append((BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM))

    def to(target: object, i: int) -> int:
        return labels[target] - i - 1 if isinstance(target, str) else int(target)

    return [(op, to(jt, i), to(jf, i), k) for i, (op, jt, jf, k) in enumerate(code)]


def install(guard: int) -> None:
    """Install the filter for this process and its descendants (needs no_new_privs); ``guard`` is
    this process's pid as it sees it (1 in its own PID namespace)."""
    import os

    prog = program(*FILTERED_CALLS[platform.machine()], guard)
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
