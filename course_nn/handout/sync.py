"""Generate assignments/ from solutions/, check it is current, and bundle a handout for students."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from course_nn import registry
from course_nn.errors import CourseError, UsageError
from course_nn.files import atomic_write
from course_nn.handout import notebook, rules
from course_nn.handout.markers import solution_lines, strip_solutions
from course_nn.registry import Assignment


def _private(rel: Path) -> bool:
    """Instructor-only files that never leave solutions/ (hidden seeds, caches, dot files)."""
    return any(part.startswith((".", "__pycache__")) or Path(part).match("hidden*") or part.endswith(".pyc")
               for part in rel.parts)


def _handout_file(rel: Path, assignment: Assignment) -> bool:
    """What may reach students: the stubbed submission, the handout, and the public tests."""
    return len(rel.parts) == 1 and (rel.name in (assignment.submission, "README.md", "conftest.py")
                                    or (rel.name.startswith("test_") and rel.suffix == ".py"))


def notebook_name(assignment: Assignment) -> str:
    """The notebook handout's file name, e.g. hw1_autograd.ipynb."""
    return f"{assignment.folder}.ipynb"


def with_rules(rel: Path, text: str, assignment: Assignment, filename: str = "<file>") -> str:
    """The handout's "What your file may use" regions regenerated from the registry (rules.py)."""
    if rel.name == "README.md":
        return rules.fill(text, assignment, "md", filename)
    if rel.name == assignment.submission:
        return rules.fill(text, assignment, "py", filename)
    return text


def stale_rules(solutions: Path, assignment: Assignment) -> dict[Path, tuple[str, str]]:
    """solutions/ files whose rules region differs from the registry: path -> (committed, generated)."""
    stale = {}
    for name in ("README.md", assignment.submission):
        path = solutions / assignment.folder / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            new = with_rules(Path(name), text, assignment, str(path))
            if new != text:
                stale[path] = (text, new)
    return stale


def generated_files(solutions: Path, assignment: Assignment, install: str | None = None,
                    github: str | None = None) -> dict[str, str]:
    """Relative path -> content of the student folder, exactly as sync writes it (the notebook
    installs ``install`` on Colab; default: the registry's INSTALL)."""
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
        text = with_rules(rel, path.read_text(encoding="utf-8"), assignment, str(path))
        if path.suffix == ".py":
            text = strip_solutions(text, assignment, str(path))
        files[rel.as_posix()] = text
    if assignment.submission in files and "README.md" in files:
        files[notebook_name(assignment)] = notebook.build(
            assignment, files["README.md"], files[assignment.submission], src,
            registry.INSTALL if install is None else install, registry.COLAB_GITHUB if github is None else github)
    return files


def sync(root: Path, names: list[str]) -> list[str]:
    """Rewrite assignments/<folder>/ for each assignment; returns the files written or removed."""
    changed = []
    for name in names:
        a = registry.get(name)
        for path, (_old, new) in stale_rules(root / "solutions", a).items():
            path.write_text(new, encoding="utf-8")  # the reference carries the same generated rules
            changed.append(str(path.relative_to(root)))
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
        for path, (old, new) in stale_rules(root / "solutions", a).items():
            rel = path.relative_to(root)
            diffs += difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                          f"{rel} (committed)", f"{rel} (rules generated from the registry)")
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


def secret_lines(solutions: Path) -> set[str]:
    """Lines that appear only inside solution blocks: a line the handout also shows in public (a
    public test's ``with torch.no_grad():``) gives nothing away."""
    secret: set[str] = set()
    public: set[str] = set()
    for a in map(registry.get, registry.ASSIGNMENTS):
        for path in (solutions / a.folder).rglob("*.py"):
            secret |= solution_lines(path.read_text(encoding="utf-8"), str(path))
        for text in generated_files(solutions, a).values():
            public |= {line.strip() for line in text.splitlines()}
    return secret - public


def leaks(files: dict[str, bytes], solutions: Path) -> list[str]:
    """Solution lines (from any assignment) found in a bundle's files."""
    secret = secret_lines(solutions)
    found = []
    for rel, data in files.items():
        if _private(Path(rel)):
            found.append(f"{rel}: instructor-only file")
            continue
        text = data.decode("utf-8", errors="replace")
        if rel.endswith(".ipynb"):  # what the cells show, not the JSON's escaped strings
            text = notebook.cell_text(text)
        lines = {line.strip() for line in text.splitlines()}
        found += [f"{rel}: {line}" for line in sorted(lines & secret)]
    return found


# ![alt](path "title") and <img src="path">: the pictures a Markdown handout shows
IMAGE_LINK = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|<img\s[^>]*?src=["']([^"']+)["']""")
IMAGES_DIR = "img"


def image_links(markdown: str) -> list[str]:
    """Every local picture a Markdown text shows (web addresses left out), in order."""
    links = [m.group(1) or m.group(2) for m in IMAGE_LINK.finditer(markdown)]
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.I)]


def with_images(src: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` plus every picture its Markdown files show: a picture outside the bundle (the
    handout's ../../docs/img/trace_sigmoid.png) is shipped in img/ and the link rewritten to it, so a
    student's bundle shows what the course repository shows. A missing picture stops the build."""
    files = dict(files)
    for rel in [r for r in files if r.endswith(".md")]:
        text = files[rel].decode("utf-8")
        here = (src / rel).parent
        for link in dict.fromkeys(image_links(text)):
            picture = (here / link).resolve()
            if not picture.is_file():
                raise CourseError(f"{src / rel} shows the picture {link}, which does not exist; fix the link or "
                                  "add the picture, then build again")
            inside = picture.is_relative_to(src.resolve()) and picture.relative_to(src.resolve()).as_posix() in files
            if inside:
                continue
            shipped = f"{IMAGES_DIR}/{picture.name}"
            if files.get(shipped, picture.read_bytes()) != picture.read_bytes():
                raise CourseError(f"{src / rel}: two different pictures named {picture.name}; rename one")
            files[shipped] = picture.read_bytes()
            target = os.path.relpath(src / shipped, here).replace(os.sep, "/")
            text = text.replace(f"]({link})", f"]({target})").replace(f'src="{link}"', f'src="{target}"') \
                       .replace(f"src='{link}'", f"src='{target}'")
        files[rel] = text.encode("utf-8")
    return files


_DISPOSABLE = ("__pycache__", ".pytest_cache")  # caches pytest leaves in a bundle: safe to replace


def bundle_files(root: Path, name: str) -> dict[str, bytes]:
    """The student bundle's files (relative path -> bytes), checked current and leak-free."""
    a = registry.get(name)
    src = root / "assignments" / a.folder
    stale = check(root, [name])
    if stale:
        raise CourseError(f"assignments/{a.folder} is out of date with solutions/; run 'course-nn handout sync' first")
    files = {p.relative_to(src).as_posix(): p.read_bytes() for p in sorted(src.rglob("*"))
             if p.is_file() and not _private(p.relative_to(src))}
    files = with_images(src, files)
    problems = leaks(files, root / "solutions")
    if problems:
        raise CourseError("refusing to build: solution text would leak into the bundle: " + "; ".join(problems[:3]))
    return files


def foreign_files(dest: Path, files: dict[str, bytes]) -> list[str]:
    """What ``dest`` holds that this build would not write as it is: a student's edited
    functions.py, runs/, data/, ... (pytest's caches excepted)."""
    if not dest.exists():
        return []
    found = []
    for p in sorted(dest.rglob("*")):
        rel = p.relative_to(dest)
        if any(part in _DISPOSABLE for part in rel.parts) or p.is_dir() and any(p.iterdir()):
            continue
        key = rel.as_posix()
        if p.is_dir() or key not in files or p.read_bytes() != files[key]:
            top = rel.parts[0] + ("/" if len(rel.parts) > 1 or p.is_dir() else "")
            if top not in found:
                found.append(top)
    return found


def target(out: Path, name: str) -> Path:
    """Where ``build`` writes: the zip itself, or OUT/<hw folder>/."""
    return out if out.suffix == ".zip" else out / registry.get(name).folder


def build_notebook(root: Path, name: str, out: Path, install: str | None = None, github: str | None = None,
                   force: bool = False) -> Path:
    """Write the notebook handout to ``out`` (a .ipynb file, or a folder that gets <hw folder>.ipynb),
    generated as sync writes it but with ``install``/``github`` in place of the registry's."""
    a = registry.get(name)
    if check(root, [name]):
        raise CourseError(f"assignments/{a.folder} is out of date with solutions/; run 'course-nn handout sync' first")
    target = out if out.suffix == ".ipynb" else out / notebook_name(a)
    text = generated_files(root / "solutions", a, install, github)[notebook_name(a)]
    problems = leaks({target.name: text.encode("utf-8")}, root / "solutions")
    if problems:
        raise CourseError("refusing to build: solution text would leak into the notebook: " + "; ".join(problems[:3]))
    if target.is_file() and not force and target.read_text(encoding="utf-8", errors="replace") != text:
        raise UsageError(f"{target} already exists and differs (a student's work?); it would be lost. "
                         "Write to another --out, or add --force to replace it")
    atomic_write(target, lambda f: f.write(text.encode("utf-8")))
    return target


def build(root: Path, name: str, out: Path, force: bool = False) -> list[str]:
    """Write the student bundle (folder, or zip when OUT ends in .zip): stubs, public tests, handout.

    Returns the files written (relative to ``target(out, name)``). A folder target that holds
    anything the build did not write is refused unless ``force``: it may be a student's work.
    """
    a = registry.get(name)
    files = bundle_files(root, name)
    prefix = a.folder
    if out.suffix == ".zip":
        def write(f) -> None:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
                for rel, data in files.items():
                    zf.writestr(f"{prefix}/{rel}", data)
        atomic_write(out, write)
        return sorted(files)
    dest = out / prefix
    foreign = foreign_files(dest, files)
    if foreign and not force:
        listed = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
        raise UsageError(f"{dest} already holds files this build did not write ({listed}); they would be lost. "
                         f"Build into another --out folder, or add --force to replace {dest}")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{prefix}.", dir=out))
    try:
        for rel, data in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        os.chmod(tmp, 0o755)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(files)
