"""pytest setup for hw1: `pytest -m task1_3` runs one task's tests, and a function you have not written yet
fails with one line ("not implemented: ...") instead of a traceback."""

import pytest

from course_nn.grading import selftest

selftest.use_submission("hw1")  # instructors: COURSE_NN_SUBMISSION=path/to/file tests another file


def pytest_configure(config):
    selftest.register_markers(config, "hw1")


def pytest_collection_modifyitems(config, items):
    selftest.mark_tasks(items, "hw1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    selftest.shorten_failure(item, outcome.get_result(), call)
