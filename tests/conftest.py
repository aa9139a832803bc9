"""Fixtures shared by the test modules, and the one rule for tests that grade in the sandbox.

A test marked ``sandbox`` (and every test that uses the ``grade`` fixture) runs student code the
way ``course-nn grade`` does. As root that needs an interpreter the unprivileged user ``nobody``
can run; where there is none (a venv built from a Python under /root, as the Quickstart allows)
such a test is skipped with that reason instead of failing. CI builds its venv from
/usr/bin/python3 and sets COURSE_NN_REQUIRE_SANDBOX=1, so there a refusal fails the run instead.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def sandbox_refusal() -> str | None:
    """Why grading would be refused on this machine (root, and 'nobody' cannot run this Python), else None."""
    from course_nn.grading import sandbox

    return sandbox.refusal()


def skip_without_sandbox() -> None:
    why = sandbox_refusal()
    if why is None:
        return
    if os.environ.get("COURSE_NN_REQUIRE_SANDBOX"):
        pytest.fail(f"COURSE_NN_REQUIRE_SANDBOX is set, but grading is refused here: {why}")
    found = re.search(r"who (cannot reach \S+?);", why)
    what = f"'nobody' {found.group(1)}" if found else why.split(";")[0]
    pytest.skip(f"needs an interpreter 'nobody' can reach: as root, grading refuses here ({what}); build the venv "
                "from /usr/bin/python3 in a folder everyone can read, as .ci/run does")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("sandbox"):
        skip_without_sandbox()


@pytest.fixture(params=["fresh", "zygote"])
def grade(request):
    """Every attack on the sandbox runs against both ways of starting a child: a fresh interpreter,
    and a fork of the zygote that has imported torch (class-scale grading)."""
    from course_nn.grading import engine

    skip_without_sandbox()
    return functools.partial(engine.grade, zygote=request.param == "zygote")


def course_copy(root: Path, closed: bool) -> Path:
    """A copy of the course repository's secrets (solutions/ and a .git folder) at ``root``: closed
    to other users (as a checkout graded without namespaces must be), or world-readable (as a git
    clone is by default)."""
    shutil.copytree(REPO / "solutions", root / "solutions")
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    for path in [root, *root.rglob("*")]:
        path.chmod((0o700 if closed else 0o755) if path.is_dir() else (0o600 if closed else 0o644))
    return root


@pytest.fixture
def open_folder():
    """A fresh folder every user may pass through (as / and /tmp are; pytest's own are root's alone)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="course-nn-open-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def closed_course(tmp_path_factory) -> Path:
    return course_copy(tmp_path_factory.mktemp("closed-course") / "course", closed=True)


MODES = {"namespace": "namespace", "container": "container",
         "container-bare": "container"}  # bare: as on a kernel without Landlock and seccomp


@pytest.fixture
def contained(request, monkeypatch, closed_course):
    """Grade in the mode ``request.param`` names (indirect parametrization): "namespace",
    "container" (as root in a default Docker container: its cgroups read-only, the course's
    secrets closed by permission), or "container-bare" (container mode where the kernel has
    neither Landlock nor seccomp: only the uid, rlimits, the watchdog and the clean-up hold).
    Skips with the reason where that mode cannot start here."""
    from course_nn.grading.child import landlock, syscall_filter
    from course_nn.grading.sandbox import cgroups, modes

    skip_without_sandbox()  # as root with an interpreter 'nobody' cannot reach, no mode grades
    name = request.param
    monkeypatch.setenv("COURSE_NN_CONTAINMENT", MODES[name])
    if name != "namespace":
        monkeypatch.setenv("COURSE_NN_ROOT", str(closed_course))
        monkeypatch.setattr(cgroups, "probe", lambda: "")
    if name == "container-bare":
        monkeypatch.setattr(landlock, "abi", lambda: 0)
        monkeypatch.setattr(syscall_filter, "available", lambda: False)
    modes.containment.cache_clear()
    c = modes.containment()
    if c.error:
        modes.containment.cache_clear()
        pytest.skip(f"{name} mode cannot start a child here: {c.error}")
    yield c
    modes.containment.cache_clear()
