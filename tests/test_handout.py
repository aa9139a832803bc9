"""One source of truth: assignments/ is generated from solutions/, and no solution reaches students."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.errors import CourseError
from course_nn.handout import markers, sync

ROOT = Path(__file__).resolve().parents[1]
HW1 = registry.get("hw1")


def course_nn(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_nn", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_committed_assignments_are_exactly_what_sync_writes():
    assert sync.check(ROOT, list(registry.ASSIGNMENTS)) == ""


def test_handout_check_exits_1_with_a_diff_when_a_stub_was_hand_edited(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "solutions", copy / "solutions")
    shutil.copytree(ROOT / "assignments", copy / "assignments")
    stub = copy / "assignments" / "hw1_autograd" / "functions.py"
    stub.write_text(stub.read_text().replace("class Sigmoid(Function):", "class Sigmoid(Function):  # edited"))
    result = course_nn("handout", "check", cwd=copy, env={"COURSE_NN_ROOT": str(copy)})
    assert result.returncode == 1
    assert "# edited" in result.stdout and "course-nn handout sync" in result.stdout
    fixed = course_nn("handout", "sync", cwd=copy, env={"COURSE_NN_ROOT": str(copy)})
    assert fixed.returncode == 0 and "functions.py" in fixed.stdout
    assert course_nn("handout", "check", cwd=copy, env={"COURSE_NN_ROOT": str(copy)}).returncode == 0


def test_each_solution_block_becomes_one_not_implemented_line():
    source = (ROOT / "solutions" / "hw1_autograd" / "functions.py").read_text()
    stub = markers.strip_solutions(source, HW1)
    assert "BEGIN SOLUTION" not in stub
    blocks = markers.find_blocks(source)
    assert stub.count("raise NotImplementedError(") == len(blocks) == 14
    assert 'raise NotImplementedError("Linear.backward is not implemented yet (hw1 task 5)")' in stub
    assert 'raise NotImplementedError("Sigmoid.forward is not implemented yet (hw1 task 3)")' in stub
    # docstrings with the math survive
    assert "dJ/db = Σ_n G_{n,:}" in stub


@pytest.mark.parametrize("bad", [
    "def f():\n    # BEGIN SOLUTION\n    return 1\n",
    "def f():\n    return 1\n    # END SOLUTION\n",
    "# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n",
])
def test_malformed_markers_are_reported_with_a_line(bad):
    with pytest.raises(CourseError, match=r"<source>:\d+"):
        markers.strip_solutions(bad, HW1)


@pytest.mark.parametrize("assignment", registry.ASSIGNMENTS)
def test_student_bundle_has_stubs_tests_handout_and_no_solution_line(tmp_path, assignment):
    a = registry.get(assignment)
    out = tmp_path / "bundle.zip"
    result = course_nn("handout", "build", assignment, "--out", str(out))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        files = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}
    assert a.submission in files and "README.md" in files
    assert any(n.startswith("test_") for n in files)
    assert not any("hidden" in n or "solutions" in n for n in files)
    assert sync.leaks(files, ROOT / "solutions") == []
    secret = sync.secret_lines(ROOT / "solutions")
    assert secret, "the reference should have solution lines"
    text = b"\n".join(files.values()).decode(errors="replace")  # pictures are bytes
    assert not [line for line in secret if line in text]


def test_leak_detector_catches_a_solution_line():
    line = next(iter(markers.solution_lines((ROOT / "solutions" / "hw1_autograd" / "functions.py").read_text())))
    found = sync.leaks({"functions.py": f"x = 1\n    {line}\n".encode()}, ROOT / "solutions")
    assert found and line in found[0]


def test_bundle_to_a_folder(tmp_path):
    result = course_nn("handout", "build", "hw1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hw1_autograd" / "functions.py").read_text() == \
        (ROOT / "assignments" / "hw1_autograd" / "functions.py").read_text()


PICTURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img [^>]*src=\"([^\"]+)\"")  # ![alt](path), <img src="path">


@pytest.mark.parametrize("assignment", registry.ASSIGNMENTS)
@pytest.mark.parametrize("form", ["zip", "folder"])
def test_a_bundle_ships_every_picture_its_handout_shows(tmp_path, assignment, form):
    a = registry.get(assignment)
    out = tmp_path / ("bundle.zip" if form == "zip" else "out")
    result = course_nn("handout", "build", "-a", assignment, "--out", str(out))
    assert result.returncode == 0, result.stderr
    if form == "zip":
        with zipfile.ZipFile(out) as zf:
            files = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}
    else:
        files = {p.relative_to(out / a.folder).as_posix(): p.read_bytes()
                 for p in (out / a.folder).rglob("*") if p.is_file()}
    shown_in_repo = {m.group(1) or m.group(2) for m in PICTURE.finditer((ROOT / "assignments" / a.folder /
                                                                          "README.md").read_text())}
    for rel in [r for r in files if r.endswith(".md")]:
        for m in PICTURE.finditer(files[rel].decode()):
            link = m.group(1) or m.group(2)
            if "://" in link:
                continue
            shipped = os.path.normpath(os.path.join(os.path.dirname(rel), link))
            assert not shipped.startswith(".."), f"{rel} shows {link}, outside the bundle"
            assert shipped in files, f"{rel} shows {link}, which the bundle lacks"
            assert files[shipped][:8] == b"\x89PNG\r\n\x1a\n" or shipped.endswith(".svg")
    if assignment == "hw1":  # the trace picture the repository's handout shows from ../../docs/img
        assert "../../docs/img/trace_sigmoid.png" in shown_in_repo
        assert files["img/trace_sigmoid.png"] == (ROOT / "docs" / "img" / "trace_sigmoid.png").read_bytes()


def test_a_handout_showing_a_missing_picture_is_not_built(tmp_path):
    (tmp_path / "README.md").write_text("# hw\n\n![the graph](../docs/img/no_such_picture.png)\n")
    with pytest.raises(CourseError, match="no_such_picture.png, which does not exist"):
        sync.with_images(tmp_path, {"README.md": (tmp_path / "README.md").read_bytes()})


def _public_tests(submission: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "assignments" / "hw1_autograd"), *extra],
                          capture_output=True, text=True, env={**os.environ, "COURSE_NN_SUBMISSION": str(submission)},
                          timeout=600)


def test_public_tests_pass_on_the_reference():
    result = _public_tests(ROOT / "solutions" / "hw1_autograd" / "functions.py")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "7 passed" in result.stdout  # one test per task


def test_public_tests_fail_on_the_stub_with_not_implemented_one_task_at_a_time():
    result = _public_tests(ROOT / "assignments" / "hw1_autograd" / "functions.py", "-m", "task1_3")
    assert result.returncode == 1
    assert "1 failed" in result.stdout and "6 deselected" in result.stdout
    assert "not implemented: Sigmoid.forward is not implemented yet (hw1 task 3)" in result.stdout
    assert "Traceback" not in result.stdout


def test_an_unmarked_extra_file_in_solutions_is_refused_not_shipped(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "solutions", copy / "solutions")
    shutil.copytree(ROOT / "assignments", copy / "assignments")
    (copy / "solutions" / "hw1_autograd" / "answer_key.py").write_text("ANSWER = 42\n")
    result = course_nn("handout", "sync", cwd=copy, env={"COURSE_NN_ROOT": str(copy)})
    assert result.returncode == 1
    assert "answer_key.py: not a handout file" in result.stderr and "Traceback" not in result.stderr
    assert not (copy / "assignments" / "hw1_autograd" / "answer_key.py").exists()


def test_a_line_the_handout_shows_in_public_is_not_a_secret(tmp_path):
    copy = tmp_path / "solutions"
    shutil.copytree(ROOT / "solutions", copy)
    lines = sorted(markers.solution_lines((copy / "hw1_autograd" / "functions.py").read_text()))
    shown, kept = lines[0], lines[1]
    tests = copy / "hw1_autograd" / "test_functions.py"
    tests.write_text(tests.read_text() + f"\n\nif False:\n    {shown}\n")  # now public in the handout
    assert sync.leaks({"a.py": f"{shown}\n".encode()}, copy) == []
    assert sync.leaks({"a.py": f"{kept}\n".encode()}, copy)  # a real solution line is still caught


def test_the_install_lines_name_the_wheel_this_version_builds_and_a_cpu_torch():
    """pip install course-nn finds nothing on PyPI: students install the wheel the course builds."""
    from course_nn import __version__

    wheel = f"course_nn-{__version__}-py3-none-any.whl"
    for readme in (ROOT / "README.md", *(ROOT / "solutions").glob("*/README.md")):
        text = readme.read_text()
        assert "pip install course-nn" not in text, readme
        assert set(re.findall(r"course_nn-[\w.]+-py3-none-any\.whl", text)) == {wheel}, readme
        assert "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu" in text, readme
