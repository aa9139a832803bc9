"""Generate assignments/ from solutions/, check it is current, and bundle a handout for students."""

from __future__ import annotations

import difflib
import shutil
import zipfile
from pathlib import Path

from course_nn import registry
from course_nn.errors import CourseError, UsageError
from course_nn.handout.markers import solution_lines, strip_solutions
from course_nn.registry import Assignment

# Instructor-only files that never leave solutions/.
PRIVATE = ("hidden*", "*.pyc", "__pycache__", ".*")


def _private(rel: Path) -> bool:
    return any(part.startswith((".", "__pycache__")) or Path(part).match("hidden*") or part.endswith(".pyc")
               for part in rel.parts)


def _handout_file(rel: Path, assignment: Assignment) -> bool:
    """What may reach students: the stubbed submission, the handout, and the public tests."""
    return len(rel.parts) == 1 and (rel.name in (assignment.submission, "README.md", "conftest.py")
                                    or (rel.name.startswith("test_") and rel.suffix == ".py"))


def generated_files(solutions: Path, assignment: Assignment) -> dict[str, str]:
    """Relative path -> content of the student folder, exactly as sync writes it."""
    src = solutions / assignment.folder
    if not src.is_dir():
        raise UsageError(f"{src}: missing; each assignment's reference lives in solutions/{assignment.folder}/")
    files = {}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir() or _private(rel):
            continue
        if not _handout_file(rel, assignment):
            raise CourseError(f"{path}: not a handout file, so it would not be copied to students; only "
                              f"{assignment.submission}, README.md, conftest.py and test_*.py are. Rename "
                              "instructor-only files to hidden* (never copied) or move them out of solutions/")
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = strip_solutions(text, assignment, str(path))
        files[rel.as_posix()] = text
    return files


def sync(root: Path, names: list[str]) -> list[str]:
    """Rewrite assignments/<folder>/ for each assignment; returns the files written or removed."""
    changed = []
    for name in names:
        a = registry.get(name)
        want = generated_files(root / "solutions", a)
        dst = root / "assignments" / a.folder
        for rel, text in want.items():
            target = dst / rel
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                changed.append(str(target.relative_to(root)))
        for path in sorted(dst.rglob("*")) if dst.is_dir() else []:
            rel = path.relative_to(dst)
            if path.is_file() and not _private(rel) and rel.as_posix() not in want:
                path.unlink()
                changed.append(f"{path.relative_to(root)} (removed)")
    return changed


def check(root: Path, names: list[str]) -> str:
    """A unified diff between assignments/ and what sync would write ('' when identical)."""
    diffs = []
    for name in names:
        a = registry.get(name)
        want = generated_files(root / "solutions", a)
        dst = root / "assignments" / a.folder
        have = {p.relative_to(dst).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(dst.rglob("*")) if p.is_file() and not _private(p.relative_to(dst))} if dst.is_dir() else {}
        for rel in sorted(set(want) | set(have)):
            old, new = have.get(rel, ""), want.get(rel, "")
            if old != new:
                diffs += difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                              f"assignments/{a.folder}/{rel} (committed)",
                                              f"assignments/{a.folder}/{rel} (generated)")
    return "".join(diffs)


def leaks(files: dict[str, bytes], solutions: Path) -> list[str]:
    """Solution lines (from any assignment) found in a bundle's files."""
    secret: set[str] = set()
    for a in map(registry.get, registry.ASSIGNMENTS):
        for path in (solutions / a.folder).rglob("*.py"):
            secret |= solution_lines(path.read_text(encoding="utf-8"), str(path))
    found = []
    for rel, data in files.items():
        if _private(Path(rel)):
            found.append(f"{rel}: instructor-only file")
            continue
        lines = {line.strip() for line in data.decode("utf-8", errors="replace").splitlines()}
        found += [f"{rel}: {line}" for line in sorted(lines & secret)]
    return found


def build(root: Path, name: str, out: Path) -> list[str]:
    """Write the student bundle (folder, or zip when OUT ends in .zip): stubs, public tests, handout."""
    a = registry.get(name)
    src = root / "assignments" / a.folder
    stale = check(root, [name])
    if stale:
        raise CourseError(f"assignments/{a.folder} is out of date with solutions/; run 'course-nn handout sync' first")
    files = {p.relative_to(src).as_posix(): p.read_bytes() for p in sorted(src.rglob("*"))
             if p.is_file() and not _private(p.relative_to(src))}
    problems = leaks(files, root / "solutions")
    if problems:
        raise CourseError("refusing to build: solution text would leak into the bundle: " + "; ".join(problems[:3]))
    prefix = a.folder
    if out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in files.items():
                zf.writestr(f"{prefix}/{rel}", data)
        tmp.replace(out)
    else:
        dest = out / prefix
        if dest.exists():
            shutil.rmtree(dest)
        for rel, data in files.items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
    return sorted(files)
