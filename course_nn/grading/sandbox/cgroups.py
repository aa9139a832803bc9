"""A cgroup per child (v1 or v2, where the grader may write one): memory and processes for the
whole tree, and the kernel's own evidence when a child ran out of memory.

A default Docker container mounts /sys/fs/cgroup read-only: there the memory watchdog over the
child's uid (child.py) bounds the tree instead.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

CGROUP_PIDS = 128
CGROUP_FS = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "course-nn-"  # every child's group; what sweep_stale_cgroups may remove
CGROUP_HEADROOM = 1536 * 1024 * 1024  # torch itself, on top of the submission's memory allowance


class Cgroup:
    """The groups of one child (one per controller in v1)."""

    def __init__(self, version: str, dirs: list[Path]):
        self.version, self.dirs = version, dirs

    @staticmethod
    def layouts(memory_bytes: int = 0, pids: int = 0) -> dict[str, list[tuple[Path, dict[str, int]]]]:
        """Where a child's groups go and what they limit: v2 one unified group, v1 one per controller."""
        return {"v2": [(CGROUP_FS, {"memory.max": memory_bytes, "pids.max": pids})],
                "v1": [(CGROUP_FS / "memory", {"memory.limit_in_bytes": memory_bytes}),
                       (CGROUP_FS / "pids", {"pids.max": pids})]}

    @classmethod
    def create(cls, version: str, memory_bytes: int, pids: int) -> Cgroup | None:
        name = f"{CGROUP_PREFIX}{secrets.token_hex(6)}"
        layouts = cls.layouts(memory_bytes, pids)
        order = [version] if version else (["v2"] if (CGROUP_FS / "cgroup.controllers").exists() else ["v1"])
        for ver in order:
            made: list[Path] = []
            try:
                for parent, settings in layouts[ver]:
                    path = parent / name
                    path.mkdir()
                    made.append(path)
                    for key, value in settings.items():
                        (path / key).write_text(str(value))
                return cls(ver, made)
            except OSError:
                for path in reversed(made):
                    try:
                        path.rmdir()
                    except OSError:
                        pass
        return None

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for f in self.procs_files():
            try:
                found |= {int(x) for x in Path(f).read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> None:
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)

    def out_of_memory(self) -> bool:
        """Did the kernel refuse this group memory (v2: an OOM kill or hitting memory.max; v1: the
        limit's fail count)? The evidence needed before a SIGKILL is called 'out of memory'."""
        for d in self.dirs:
            for name in ("memory.events", "memory.failcnt", "memory.oom_control"):
                try:
                    text = (d / name).read_text()
                except OSError:
                    continue
                if name == "memory.failcnt":
                    if int(text.strip() or 0) > 0:
                        return True
                    continue
                counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
                if any(int(counts.get(key, "0")) > 0 for key in ("oom_kill", "oom", "max")):
                    return True
        return False


def probe() -> str:
    """The cgroup version this grader can make groups in ("" when it cannot)."""
    if os.geteuid() != 0:
        return ""
    group = Cgroup.create("", 64 << 20, 8)
    if group is None:
        return ""
    group.remove()
    sweep_stale_cgroups()
    return group.version


STALE_CGROUP_SECONDS = 600  # far longer than any one child lives (its task limit is seconds)


def sweep_stale_cgroups(roots: tuple[str, ...] | None = None) -> int:
    """Remove the empty cgroups that graders killed outright (kill -9) had no chance to remove.
    Only old ones: a concurrent grader's new cgroup is empty for a moment before its child joins."""
    if roots is None:
        roots = tuple(str(parent) for layout in Cgroup.layouts().values() for parent, _ in layout)
    removed = 0
    for root in roots:
        for group in Path(root).glob(f"{CGROUP_PREFIX}*"):
            try:
                if time.time() - group.stat().st_mtime > STALE_CGROUP_SECONDS and \
                        not (group / "cgroup.procs").read_text().strip():
                    group.rmdir()
                    removed += 1
            except OSError:
                continue
    return removed
