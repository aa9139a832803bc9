"""Fixtures shared by the test modules."""

from __future__ import annotations

import functools

import pytest


@pytest.fixture(params=["fresh", "zygote"])
def grade(request):
    """Every attack on the sandbox runs against both ways of starting a child: a fresh interpreter,
    and a fork of the zygote that has imported torch (class-scale grading)."""
    from course_nn.grading import engine

    return functools.partial(engine.grade, zygote=request.param == "zygote")
