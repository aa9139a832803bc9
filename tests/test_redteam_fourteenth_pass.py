"""A fourteenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt14_*.py) are appended to the untouched stub (escapes) or the correct base
(fair files), so their classes replace the base's. The ones the grader gets wrong today are strict xfails whose
reason says where the hole is: remove the mark when fixed.
"""

from __future__ import annotations

import pytest
from test_gate_grading import FORGE
from test_redteam_eleventh_pass import _BOX, _holes
from test_redteam_fifth_pass import HW1, PARTS1, STUB1, _grade

from course_nn.grading import report, review

BASE1 = PARTS1 / "correct_base.py"

# ----------------------------------------------------------------------------------------------
# The gate (headline): an own class handed on as a value by a classmethod the gate does not see. A class body's
# `grab = classmethod(_grab)` (a module-level `def _grab(c): return c`, or a lambda) is no `def`, so the gate
# neither applies the classmethod rules to it (`cls` is the class itself, never passed or returned) nor sees
# that `_grab`'s ordinary first parameter receives the class: `_K.grab()` is `_K` as a value it cannot type.
# On that value a method named like an `ATTRIBUTES` entry (`values`, `keys`, `get`, ...) is a listed
# attribute, and called unbound it runs with any object as the `self` the gate trusts, where `self.ctypes` is a
# "public name the object does not have natively" and `self._sys` a name the family assigns: numpy -> ctypes ->
# sys -> a frame -> exec, the forger of test_gate_grading.py with the runner's frame. Appended to the untouched
# stub it earned 100 of 100 sandboxed (CLI as root). The same value breaks the listed-base rule too:
# `class _K(FunctionCtx): grab = classmethod(...)` hands FunctionCtx's unbound set_materialize_grads on.
# The fix belongs in classes.py: a class-body binding to `classmethod(...)`/`staticmethod(...)`/`property(...)`
# (or any call of them outside a decorator) is a method like a decorated `def` -- or refused -- so its function's
# first parameter is the class under the same rules.

ESCAPE = PARTS1 / "rt14_escape_classmethod_hands_own_class_on.py"
# Held since classmethod may only decorate a def in its class body (review/expressions
# allowed_use, rules.s_FunctionDef): `classmethod(f)` called or passed, or `@classmethod` above a def outside a
# class, is refused at its line.


def _escape_source() -> str:
    return "\n\n".join([STUB1.read_text(), f"_FORGE = {FORGE!r}\n", ESCAPE.read_text()])


def test_an_own_class_handed_on_by_a_classmethod_call_is_refused_at_its_hole():
    source = _escape_source()
    assert {v.line for v in review.check(source, HW1).escapes} & _holes(source)


@pytest.mark.sandbox
def test_an_own_class_handed_on_by_a_classmethod_call_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source())
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


# Every spelling of the hole, each refused at its line: own classes with trusted methods, and classes whose listed
# bases have Python methods (the unbound set_materialize_grads of rt11 by another road).
ROUTES = [
    ("classmethod of a module-level function", "def _grab(c):\n    return c\n\n\nclass _K(FunctionCtx):\n"
     "    grab = classmethod(_grab)  # hole\n\n\n_K.grab().set_materialize_grads(_Box(), 'ctypes')"),
    ("classmethod of a lambda", "class _K(FunctionCtx):\n    grab = classmethod(lambda c: c)  # hole\n\n\n"
     "_K.grab().set_materialize_grads(_Box(), 'ctypes')"),
    ("classmethod of an lru_cache", "def _grab(c):\n    return c\n\n\nclass _K(FunctionCtx):\n"
     "    grab = classmethod(functools.lru_cache(_grab))  # hole\n\n\n"
     "_K.grab().set_materialize_grads(_Box(), 'ctypes')"),
    ("torch.autograd.Function base", "class _K(torch.autograd.Function):\n    grab = classmethod(lambda c: c)  # hole"
     "\n\n\n_K.grab().set_materialize_grads(_Box(), 'ctypes')"),
    ("classmethod made outside the class", "@classmethod  # hole\ndef _grab(c):\n    return c\n\n\n"
     "class _K(FunctionCtx):\n    grab = _grab\n\n\n_K.grab().set_materialize_grads(_Box(), 'ctypes')"),
]


@pytest.mark.parametrize(("name", "snippet"), ROUTES, ids=[n for n, _ in ROUTES])
def test_every_classmethod_route_that_hands_a_class_on_is_refused_at_its_hole(name, snippet):
    source = "import torch\n" + STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


def test_the_decorated_classmethod_that_passes_cls_on_stays_refused():
    """Held: the same hand-off written as a decorated `def` is refused where `cls` is passed."""
    snippet = ("def _grab(c):\n    return c\n\n\nclass _K(FunctionCtx):\n    @classmethod\n    def grab(cls):\n"
               "        return _grab(cls)  # hole\n")
    source = STUB1.read_text() + "\n\n" + _BOX + snippet
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


# ----------------------------------------------------------------------------------------------
# Fairness: `Tensor = torch.Tensor` (an alias used only in annotations and isinstance) and
# `issubclass(OwnModule, torch.nn.Module)` are honest, common styles; the gate refuses both as a listed class
# (or an own class with trusted methods) handed on as a value, and a refused file earns nothing. An alias used
# only where the class itself may stand (annotations, isinstance, issubclass's arguments, `type(x) is`) could
# keep the class's rules, as an own class's one alias does (`Square = MulSelf`); issubclass reads no method.

FAIR = PARTS1 / "rt14_fair_tensor_alias.py"
UNFAIR = ("review/rules.py: a listed class given another name (`Tensor = torch.Tensor`, a tuple of listed classes "
          "held in a name) is refused, unlike an own class's one alias: held under a name, the gate would have to "
          "follow it into every position; the line tells the student to write the class out (docs/security.md, "
          "limits)")


@pytest.mark.xfail(strict=True, reason=UNFAIR)
def test_a_tensor_alias_and_issubclass_keep_full_credit(tmp_path):
    result = _grade(tmp_path, HW1, BASE1, FAIR)
    assert result.score == pytest.approx(100), report.details(result)


_LIMIT = pytest.mark.xfail(strict=True, reason=UNFAIR)
HONEST = [
    pytest.param("Tensor alias in annotations", "Tensor = torch.Tensor\n\n\ndef _f(x: Tensor) -> Tensor:\n    return x",
                 marks=_LIMIT, id="Tensor alias in annotations"),
    pytest.param("issubclass of an own Module",
                 "class _M(torch.nn.Module):\n    pass\n\n\n_ok = issubclass(_M, torch.nn.Module)",
                 id="issubclass of an own Module"),  # held: issubclass's first argument is a class position
    pytest.param("a named tuple of classes for isinstance", "_KINDS = (torch.Tensor, np.ndarray)\n\n\ndef _f(x):\n"
                 "    return isinstance(x, _KINDS)", marks=_LIMIT, id="a named tuple of classes for isinstance"),
]


@pytest.mark.parametrize(("name", "snippet"), HONEST)
def test_honest_class_names_are_not_refused(name, snippet):
    source = "import torch\n" + STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"
    assert review.check(source, HW1).violations == []
