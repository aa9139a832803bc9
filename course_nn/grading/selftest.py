"""What the handouts' conftest.py calls, so the public test files can stay plain pytest.

The students' ``test_*.py`` files import their own file (``from functions import Sigmoid``) and run
ordinary forward and gradcheck tests; this module supplies the pieces around them:

- ``pytest -m task1_3`` works: each task's marker (from the registry) is registered and attached to
  the tests named after that task (``test_sigmoid``, ``test_cross_entropy_...``);
- a stub that is not written yet fails in one line, ``not implemented: Sigmoid.forward is not
  implemented yet (hw1 task 3)``, instead of a traceback, and other failures skip torch's internals;
- ``$COURSE_NN_SUBMISSION`` points the tests at another file (instructors test the reference and
  the stubs with the same public tests).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from typing import Any

from course_nn import registry


def use_submission(assignment_name: str) -> None:
    """Make ``import functions`` (hw1) or ``import mlp`` (hw2) load $COURSE_NN_SUBMISSION when it is set;
    otherwise the file next to the tests is imported as usual."""
    override = os.environ.get("COURSE_NN_SUBMISSION")
    if not override:
        return
    name = registry.get(assignment_name).submission.removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, override)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"COURSE_NN_SUBMISSION={override} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def register_markers(config: Any, assignment_name: str) -> None:
    """Declare one marker per task, e.g. ``task1_3: hw1 task 3 — Sigmoid: ...`` (``pytest --markers``)."""
    a = registry.get(assignment_name)
    for t in a.tasks:
        config.addinivalue_line("markers", f"{a.marker(t)}: {a.label(t)} — {t.name}: {t.summary}")


def _key(name: str) -> str:
    return name.lower().replace("_", "")


def task_of(test_name: str, assignment_name: str) -> registry.Task | None:
    """The task a test is about, from its name: ``test_cross_entropy_probabilities`` -> CrossEntropy.

    The longest task name that starts the test's name wins (``test_squared_error`` is SquaredError, not
    Square); None for a test named after no task (a student's own extra test, say)."""
    key = _key(test_name.removeprefix("test_").split("[")[0])
    matches = [t for t in registry.get(assignment_name).tasks if key.startswith(_key(t.name))]
    return max(matches, key=lambda t: len(t.name), default=None)


def mark_tasks(items: list[Any], assignment_name: str) -> None:
    """Attach each task's marker to the tests named after it, so ``pytest -m task1_3`` selects them."""
    import pytest

    a = registry.get(assignment_name)
    for item in items:
        task = task_of(item.name, assignment_name)
        if task is not None:
            item.add_marker(getattr(pytest.mark, a.marker(task)))


def _without_frames_in(tb: types.TracebackType | None, folder: str) -> types.TracebackType | None:
    """The traceback chain ``tb`` with every frame from files under ``folder`` left out."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(folder):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for t in reversed(kept):
        chain = types.TracebackType(chain, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return chain


def shorten_failure(item: Any, report: Any, call: Any) -> None:
    """Failure reports a student can read: a stub's ``raise NotImplementedError`` becomes its one line,
    and other failures show the test's and the student's lines but not torch's internals (the error
    message, e.g. gradcheck's two Jacobians, is kept)."""
    if not report.failed or call.excinfo is None:
        return
    if call.excinfo.errisinstance(NotImplementedError):
        report.longrepr = f"not implemented: {call.excinfo.value}"
        return
    import pytest
    import torch

    exc = call.excinfo.value
    tb = _without_frames_in(exc.__traceback__, os.path.dirname(torch.__file__))
    if tb is not None and tb is not exc.__traceback__:
        report.longrepr = item.repr_failure(pytest.ExceptionInfo.from_exc_info((type(exc), exc, tb)))
