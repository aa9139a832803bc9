"""A sixteenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt16_*.py) are appended to the untouched stub with `_FORGE` (escapes), so
their classes stand beside the stub's. Each was a strict xfail; both holes are closed: Classes.nested_class counts
a family's native names (its listed bases', and for a Function the generated ctx class's, `_forward_cls`) as
"maybe something else", never as the nested class of that name.
"""

from __future__ import annotations

import pytest
from test_redteam_fifteenth_pass import _escape_source, _snippet_source
from test_redteam_fifth_pass import HW1

from course_nn.grading import report, review

# ----------------------------------------------------------------------------------------------
# A nested class shadowed by a listed base. `classes.nested_class` (review/classes.py) types `<own>.value` as the
# class a class body of the family defines as `value` unless something the gate sees rebinds it (a class-body
# statement, a store on a trusted receiver, a listed store). It never asks the family's listed bases: in
# `class _B(StopIteration, _A)` StopIteration comes before `_A` in the MRO, so `_B(x).value` is StopIteration's
# slot -- `x`, any object -- typed as the own class `value`, on which the names its body binds (its nested
# classes, `exec = None`) are read with no further check: an array walks numpy -> ctypes -> sys -> a frame and
# builtins.exec. Likewise SystemExit.code, ImportError.path (and every native of a listed base). The fix belongs
# in classes.nested_class: a name any listed base of the family has natively (`natives(fam)`, less object's) is
# "maybe something else" (`other`), or a nested class so named is refused at its class statement.

SHADOWED = ("review/classes.py nested_class: a nested class named like a native attribute of a listed base "
            "(`class _B(StopIteration, _A)`, `_A.value`) is typed as that own class, but the listed base comes "
            "first in the MRO: `_B(x).value` is x, any object, on which the nested class's own names are read")
SHADOW = "rt16_escape_listed_base_shadows_nested_class.py"


def test_a_nested_class_shadowed_by_a_listed_base_is_refused():
    source = _escape_source(SHADOW)
    assert review.check(source, HW1).escapes


@pytest.mark.sandbox
def test_a_nested_class_shadowed_by_a_listed_base_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(SHADOW))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


SHADOW_ROUTES = [
    ("SystemExit.code", "class _A:\n    class code:\n        ctypes = None\n\n\n"
     "class _B(SystemExit, _A):  # hole\n    pass\n\n\n_c = _B(np.zeros(1)).code.ctypes"),
    ("ImportError.path", "class _A:\n    class path:\n        ctypes = None\n\n\n"
     "class _B(ImportError, _A):  # hole\n    pass\n\n\n_c = _B('m', path=np.zeros(1)).path.ctypes"),
    ("through self in a method", "class _A:\n    class value:\n        ctypes = None\n\n"
     "    def read(self):\n        return self.value.ctypes\n\n\n"
     "class _B(StopIteration, _A):  # hole\n    pass\n\n\n_c = _B(np.zeros(1)).read()"),
]


@pytest.mark.parametrize(("name", "snippet"), SHADOW_ROUTES, ids=[n for n, _ in SHADOW_ROUTES])
def test_every_shadowed_nested_class_route_is_refused(name, snippet):
    source = _snippet_source(snippet)
    assert review.check(source, HW1).escapes  # at the class statement or where the shadowed name is read


# ----------------------------------------------------------------------------------------------
# The same typing on a Function's ctx, which is no instance of the Function class at all: an object of the
# generated `_FBackward(BackwardCFunction)`, whose native `_forward_cls` is the Function class. With an empty
# `class _forward_cls` in the Function's body, `ctx._forward_cls` -- the guarded Function -- is typed as that
# unguarded nested class, a plain value: kept in a list, its static helpers (named like `ATTRIBUTES` entries,
# trusting `ctx`) run on any object. The fix belongs in classes.nested_class too: on a Function family's ctx no
# nested class is read (ctx never has the class's attributes), or any native of BackwardCFunction's generated
# subclass (`_forward_cls`, `metadata`, `next_functions`, ...) is "maybe something else".

CTX_NATIVE = ("review/classes.py nested_class: `ctx.<name>` in a Function is typed as the class its body defines "
              "as <name>, but ctx is a BackwardCFunction object: `ctx._forward_cls` is the guarded Function itself, "
              "handed on as a value whose static helpers then run on any object")
CTX_PART = "rt16_escape_ctx_native_typed_as_nested_class.py"


def test_a_ctx_native_typed_as_a_nested_class_is_refused():
    source = _escape_source(CTX_PART)
    assert review.check(source, HW1).escapes


@pytest.mark.sandbox
def test_a_ctx_native_typed_as_a_nested_class_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(CTX_PART))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)
