"""One grading's sandbox from start to end: its uid, its folder, its children, and the clean-up.

    grading = Grading(containment(), submission, "functions.py", hide)
    try:
        child = grading.child(memory_bytes, zygote)   # as many as the grading needs
        ...
        grading.ended(child)
    finally:
        notes += grading.close()

A root grader leases the grading's uid first (cleaned of whatever a killed grader left to it) and
gives it the sandbox folder; ``close`` kills every process of that uid until none is left, reaps
what the subreaper adopted, deletes the files the uid left in the world-writable folders (container
mode: there is no private /tmp) and its SysV IPC, removes the folder, and only then gives the uid
back. The notes say what was found.
"""

from __future__ import annotations

from pathlib import Path

from course_nn.grading.sandbox import cleanup, strays, uids
from course_nn.grading.sandbox.box import prepare
from course_nn.grading.sandbox.child import Child
from course_nn.grading.sandbox.hidden import secret_paths
from course_nn.grading.sandbox.modes import Containment


class Grading:
    def __init__(self, c: Containment, submission: Path, filename: str, hide: list[Path] | tuple[Path, ...] = (),
                 source: bytes | None = None):
        self.c = c
        self.lease = uids.acquire() if c.leases else None
        try:  # ``source``: the graded UTF-8 text written instead of the file's bytes (submission.py)
            self.box = prepare(submission, filename, self.lease.uid if self.lease else None, source)
        except BaseException:
            if self.lease is not None:
                self.lease.release()
            raise
        self.hidden = secret_paths(list(hide))
        self.notes = [c.describe(self.lease.uid if self.lease else None)]
        if not c.leases and not c.namespaces and strays.protect_parent():
            self.notes.append("grader made non-dumpable: a same-user child cannot read its memory")
        if not strays.become_subreaper():
            self.notes.append("could not become a child subreaper: processes a submission detaches may outlive grading")
        self.before = strays.own_children()
        self.known: set[int] = set()

    @property
    def uid(self) -> int | None:
        return self.lease.uid if self.lease else None

    def child(self, memory_bytes: int, zygote=None) -> Child:
        if self.lease is not None and self.known:  # a child before this one: it leaves nothing to the next
            cleanup.kill_all(self.lease.uid, thorough=not self.c.namespaces)
        return Child(self.box, self.c, self.hidden, memory_bytes, zygote, self.lease)

    def ended(self, child: Child) -> None:
        """``child`` was killed: its tree is known (the subreaper adopts it for a moment)."""
        self.known |= child.tree | {child.proc.pid}

    def close(self) -> list[str]:
        """Kill and remove everything of this grading; returns notes on what was left behind."""
        notes: list[str] = []
        stuck = 0
        try:
            if self.lease is not None:  # (with namespaces the PID namespace took everything already)
                killed, stuck = cleanup.kill_all(self.lease.uid, thorough=not self.c.namespaces,
                                                 always=not self.c.seccomp)
                if killed:
                    notes.append(f"killed {killed} process(es) of uid {self.lease.uid} left running after the child")
                if stuck:
                    notes.append(f"{stuck} process(es) of uid {self.lease.uid} would not die (the next lease of "
                                 "this uid kills them first)")
            left = strays.kill_strays(self.before, self.known)  # with a lease: only reaps what was killed above
            if left and self.lease is None:
                notes.append(f"killed {left} process(es) the submission left running after it exited")
            self.box.cleanup()  # first: the sweep reports only what the uid left elsewhere
            if self.lease is not None and not self.c.namespaces:
                removed = cleanup.sweep_files(self.lease.uid)
                if removed:
                    notes.append(f"removed {removed} file(s) and folder(s) uid {self.lease.uid} left in "
                                 "the world-writable folders")
        finally:
            self.box.cleanup()
            if self.lease is not None:
                self.lease.release(clean=not stuck)
        return notes
