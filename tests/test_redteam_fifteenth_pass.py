"""A fifteenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt15_*.py) are appended to the untouched stub with `_FORGE` (escapes), so
their classes stand beside the stub's. The ones the grader gets wrong today are strict xfails whose reason says
where the hole is: remove the mark when fixed.
"""

from __future__ import annotations

import pytest
from test_gate_grading import FORGE
from test_redteam_eleventh_pass import _BOX, _holes
from test_redteam_fifth_pass import HW1, HW2, PARTS1, ROOT, STUB1

from course_nn.grading import report, review


def _escape_source(part: str) -> str:
    return "\n\n".join([STUB1.read_text(), f"_FORGE = {FORGE!r}\n", (PARTS1 / part).read_text()])


def _snippet_source(snippet: str) -> str:
    return "import torch\n" + STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"


# ----------------------------------------------------------------------------------------------
# Families split by a base the gate types but classes.py does not follow. `base_class` (review/rules.py) accepts
# any base that `expr` types as one own class: a nested class read as an attribute (`_Outer._In`, `_o._In`,
# `self.Block`) or a classmethod's `cls`. But `Classes.__init__` (review/classes.py) joins families through
# `resolver.static`, which reads an attribute only on a module or a listed type and a name only through class
# statements and plain aliases: the derived class is a family of its own. With no methods of its own it is not
# guarded -- a plain value -- and on it the base's unbound methods (named like `ATTRIBUTES` entries) run with any
# object as the `self` the base's rules trust; its listed bases are lost too (`FunctionCtx.set_materialize_grads`
# of rt11). The fix belongs in classes.py: join a class with every base `expr` can type as an own class (the same
# typing `base_class` uses), or refuse a base that is not a name `resolver.static` resolves.

SPLIT = ("review/classes.py Classes.__init__ joins families through resolver.static, which does not follow a "
         "nested class read as an attribute (`class _B(_Outer._In)`) or a classmethod's `cls` (`class _B(cls)`), "
         "though rules.base_class accepts both: the derived class is an unguarded family of its own, a plain "
         "value through which the base's unbound trusted methods run on any object")

NESTED = "rt15_escape_nested_class_base_splits_family.py"
OF_CLS = "rt15_escape_subclass_of_cls_splits_family.py"


@pytest.mark.parametrize("part", [NESTED, OF_CLS])
def test_a_class_split_from_its_base_family_is_refused_at_its_hole(part):
    """Held: a nested base (`Outer.Inner`) joins its family (classes._static_base), so the derived class is
    guarded and refused as a value where it is handed on; a base reached through an object or `cls` is refused
    at the base (bases.base_class)."""
    source = _escape_source(part)
    assert review.check(source, HW1).escapes


@pytest.mark.sandbox
@pytest.mark.parametrize("part", [NESTED, OF_CLS])
def test_a_class_split_from_its_base_family_earns_nothing_sandboxed(tmp_path, grade, part):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(part))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


SPLIT_ROUTES = [
    ("nested class of a FunctionCtx", "class _Outer:\n    class _In(FunctionCtx):\n        pass\n\n\n"
     "class _B(_Outer._In):  # hole\n    pass\n\n\n_B.set_materialize_grads(_Box(), 'ctypes')"),
    ("nested Function: unbound forward", "class _Outer:\n    class _F(torch.autograd.Function):\n"
     "        @staticmethod\n        def forward(ctx, x):\n            ctx._sys = x\n            return ctx.ctypes\n\n"
     "        @staticmethod\n        def backward(ctx, g):\n            return g\n\n\n"
     "class _G(_Outer._F):  # hole\n    pass\n\n\n_x = _G.forward(np.zeros(1), 0)"),
    ("nested class read through an instance", "class _Outer:\n    class _In:\n        def values(self):\n"
     "            return self.ctypes\n\n\n_o = _Outer()\n\n\nclass _B(_o._In):  # hole\n    pass\n\n\n"
     "_x = _B.values(np.zeros(1))"),
    ("subclass of cls of a FunctionCtx", "class _K(FunctionCtx):\n    @classmethod\n    def sub(cls):\n"
     "        class _B(cls):  # hole\n            pass\n\n        return _B\n\n\n"
     "_K.sub().set_materialize_grads(_Box(), 'ctypes')"),
]


@pytest.mark.parametrize(("name", "snippet"), SPLIT_ROUTES, ids=[n for n, _ in SPLIT_ROUTES])
def test_every_split_family_route_is_refused_at_its_hole(name, snippet):
    source = _snippet_source(snippet)
    assert review.check(source, HW1).escapes  # at the base, or where the joined class's method is read


# ----------------------------------------------------------------------------------------------
# `@classmethod` stacked over `@staticmethod`: classes.py `_method` takes any def with `classmethod` among its
# (trusted) decorators as a classmethod, whose first parameter is the class itself (`cls_params`: an OWN_CLASS
# value, on which the family's own names may be read). On Python 3.9-3.12 `classmethod.__get__` chains to the
# staticmethod's `__get__`, which returns the plain function: `_K.step(x)` runs with `cls = x`, any object. The
# fix belongs in classes.py `_method`: `classmethod` only as the sole descriptor (refuse it stacked over
# `staticmethod`, or over any decorator whose result is no plain function).

STACKED = ("review/classes.py _method: `@classmethod` over `@staticmethod` is taken as a classmethod whose `cls` "
           "is the class, but Python 3.9-3.12 hands the staticmethod's plain function on: `cls` is any argument")
CM_OVER_SM = "rt15_escape_classmethod_over_staticmethod.py"


def test_a_classmethod_over_a_staticmethod_is_refused_at_its_hole():
    """Held since classes._method trusts no `cls` under a classmethod stacked over a staticmethod."""
    source = _escape_source(CM_OVER_SM)
    assert review.check(source, HW1).escapes


@pytest.mark.sandbox
def test_a_classmethod_over_a_staticmethod_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(CM_OVER_SM))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


def test_a_classmethod_over_a_listed_wrapper_keeps_cls_the_class():
    """Held: over `functools.cache` or `property`, Python binds the wrapper to the class itself, so `cls` passed
    on is still refused as an own class handed on."""
    snippet = ("def _grab(c):\n    return c\n\n\nclass _K(FunctionCtx):\n    @classmethod\n    @functools.cache\n"
               "    def grab(cls):\n        return _grab(cls)  # hole\n")
    source = _snippet_source(snippet)
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


# ----------------------------------------------------------------------------------------------
# A class pattern's keyword capture: `case _Outer(Inner=c)` reads `subject.Inner`, a nested class. rules.pattern
# (review/rules.py) checks the read with `member`, which types it as that own class, but drops the value, and the
# capture `c` is a `match` binding, which resolve.py types as UNKNOWN: the guarded class as a value the gate cannot
# type. The fix belongs in rules.pattern: pass `member`'s value through `allowed_use(..., VALUE)` for a keyword
# pattern that binds (a capture or `as`), as `x = subject.Inner` is.

CAPTURE = ("review/rules.py pattern: a MatchClass keyword read (`case _Outer(Inner=c)`) is checked by member() "
           "but its value (a nested own class) never meets allowed_use, and the capture is UNKNOWN: a guarded "
           "class handed on as a value")
MATCH = "rt15_escape_match_captures_nested_class.py"


def test_a_nested_class_captured_by_a_class_pattern_is_refused_at_its_hole():
    source = _escape_source(MATCH)
    assert {v.line for v in review.check(source, HW1).escapes} & _holes(source)


@pytest.mark.sandbox
def test_a_nested_class_captured_by_a_class_pattern_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(MATCH))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


def test_a_nested_listed_subclass_captured_by_a_class_pattern_is_refused_at_its_hole():
    snippet = ("class _Outer:\n    class Inner(FunctionCtx):\n        pass\n\n\nmatch _Outer():\n"
               "    case _Outer(Inner=_c):  # hole\n        _c.set_materialize_grads(_Box(), 'ctypes')")
    source = _snippet_source(snippet)
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


# ----------------------------------------------------------------------------------------------
# Fairness. Held today (a guard for the fix above: join the families, do not refuse the base): an honest nested
# base class, a Module block derived from a sibling nested class.
_MLP_STUB = ROOT / "assignments" / "hw2_mlp" / "mlp.py"


def _hw2_source(snippet: str) -> str:
    return _MLP_STUB.read_text() + "\n\n" + snippet + "\n"


def test_an_honest_nested_base_class_is_not_refused():
    snippet = ("class _Blocks:\n    class Base(torch.nn.Module):\n        def __init__(self):\n"
               "            super().__init__()\n            self.scale = 2.0\n\n        def forward(self, x):\n"
               "            return x * self.scale\n\n\nclass _Scaled(_Blocks.Base):\n    def forward(self, x):\n"
               "        return super().forward(x) + 1.0\n")
    assert review.check(_hw2_source(snippet), HW2).violations == []


# An activation class as a parameter default (`activation=torch.nn.ReLU`, then `activation()`) is a common MLP
# style; the gate refuses it as a listed class held as a value (the documented limit of the fourteenth pass,
# docs/security.md): a file written that way earns nothing.
@pytest.mark.xfail(strict=True, reason="review/expressions.py allowed_use: a listed class with Python methods as a "
                   "parameter default is a bare value (docs/security.md limits: a listed class given another name)")
def test_an_activation_class_default_is_not_refused():
    snippet = ("class _Net(torch.nn.Module):\n    def __init__(self, sizes, activation=torch.nn.ReLU):\n"
               "        super().__init__()\n        self.act = activation()\n")
    assert review.check(_hw2_source(snippet), HW2).violations == []
