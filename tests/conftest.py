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

import pytest


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
