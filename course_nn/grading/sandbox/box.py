"""The folder a child runs in: its runner, the one submission file, and its scratch space.

One folder per grading (``prepare``), owned by the grading's uid and mode 0700 when the grader is
root (by the grader itself otherwise): no other grading's uid may enter it. Inside, ``runner/``
and ``work/`` (the submission, the child's working folder) belong to the grader and are
read-only for the child; ``tmp/`` is the child's own scratch folder (its TMPDIR where there is no
private /tmp: Landlock lets it write nowhere else).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHILD_DIR = Path(__file__).resolve().parents[1] / "child"
CHILD_FILES = ("runner.py", "framing.py", "probe_hw1.py", "numdiff_watch.py", "numdiff_nudge.py", "numdiff_scalar.py", "given_hw2.py", "probe_hw2.py")


@dataclass
class Sandbox:
    """A grading's private folder (``box``; ``root`` is the same folder)."""

    root: Path
    box: Path
    target: Path

    @property
    def work(self) -> Path:
        return self.target.parent

    @property
    def scratch(self) -> Path:
        return self.box / "tmp"

    def view(self, c, path: Path) -> str:
        """``path`` as the child of containment ``c`` sees it (with namespaces the box is mounted
        on the anchor)."""
        return str(Path(c.anchor) / "box" / path.relative_to(self.box)) if c.namespaces else str(path)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def prepare(submission: Path | None, filename: str, uid: int | None = None, source: bytes | None = None) -> Sandbox:
    """Copy only the submission file (never following a link) and the runner into a fresh folder,
    given to ``uid`` (mode 0700) when the grader leases one; with ``source``, write those bytes
    instead (the graded UTF-8 text, see submission.py). ``submission`` None: an empty box (the
    containment probe's)."""
    box = Path(tempfile.mkdtemp(prefix="course-nn-grade-"))
    for sub in ("runner", "work", "tmp"):
        (box / sub).mkdir()
    for name in CHILD_FILES:
        shutil.copyfile(CHILD_DIR / name, box / "runner" / name)
    target = box / "work" / filename
    if source is not None:
        target.write_bytes(source)
        os.chmod(target, 0o644)
    elif submission is not None:
        fd = os.open(submission, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(target, 0o644)
    for p in (box / "runner", box / "work"):
        os.chmod(p, 0o755)
    for p in (box / "runner").iterdir():
        os.chmod(p, 0o644)
    os.chmod(box / "tmp", 0o700)
    os.chmod(box, 0o700)
    if uid is not None:
        os.chown(box / "tmp", uid, uid)
        os.chown(box, uid, uid)
    return Sandbox(box, box, target)


def child_env(home: str, tmp: str = "") -> dict[str, str]:
    """The child's whole environment: nothing of the grader's but what torch needs to run."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if tmp:
        env["TMPDIR"] = tmp
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
