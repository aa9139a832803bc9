"""An eighteenth red-team pass, by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt18_escape_*.py) are appended to the untouched stub with `_FORGE` (escapes), so
their classes stand beside the stub's; each earned the untouched stub 100 before its fix. Fair parts
(rt18_fair_*.py) are appended to the correct base and must keep full credit.
"""

from __future__ import annotations

import pytest
from test_redteam_fifteenth_pass import _escape_source, _snippet_source
from test_redteam_fifth_pass import HW1, PARTS1, _grade

from course_nn.grading import report, review


def _refused(part: str) -> list:
    escapes = review.check(_escape_source(part), HW1).escapes
    assert escapes, part
    for v in escapes:  # a teaching line: what to write instead, never a grader-internal name
        assert v.rule and "review/" not in v.rule and "Index" not in v.rule
    return escapes


# ----------------------------------------------------------------------------------------------
# A built-in base whose `__new__` hands back another object. bases.constructs admitted every listed base whose
# `__new__` is defined in `builtins` (after the seventeenth pass refused numpy's scalar types), but
# `reversed.__new__(cls, seq)` returns `seq.__reversed__()` whatever `cls` is: for a tensor, `seq.flip(0)`. values.py
# typed `_x = _R(t)` as an own instance of `_R`, on which the nested classes `_R` defines were read: `_x.numpy()` is
# the tensor's ndarray, and its `.ctypes` chain reached sys. Fixed in bases.py: built-in types are admitted as
# bases by name (the ones whose `__new__` always makes an instance of the class it is given, and exceptions).

REVERSED = "rt18_escape_reversed_base_returns_tensor.py"


def test_a_class_derived_from_reversed_is_refused_at_its_base():
    escapes = _refused(REVERSED)
    assert any("class _R(reversed)" in v.code and "may not be a base class" in v.rule for v in escapes)


KEPT_BASES = ["int", "float", "complex", "str", "bytes", "tuple", "frozenset", "list", "dict", "set", "enumerate",
              "filter", "map", "zip", "OSError", "KeyError", "ExceptionGroup", "collections.deque", "functools.partial",
              "itertools.chain", "random.Random"]


@pytest.mark.parametrize("base", KEPT_BASES)
def test_built_in_bases_that_always_construct_stay_admitted(base):
    snippet = f"import random\nimport itertools\n\n\nclass _K({base}):\n    def twice(self):\n        return 2\n"
    assert review.check(_snippet_source(snippet), HW1).violations == []


# ----------------------------------------------------------------------------------------------
# An instance attribute a listed base's `__init__` stores through `__setattr__`. Index.api_stores collects the
# names a listed class's Python code may store (STORE_ATTR, or every identifier constant where `setattr` is
# called), so that no own attribute of such a name is typed as the nested class of that name. `Module.__init__`
# stores its tables with `super().__setattr__("_forward_hooks", OrderedDict())`, a call of `__setattr__`, and
# `_forward_hooks` is no class attribute of Module: `_m._forward_hooks` was typed as the file's nested class while
# it is an OrderedDict, whose `.get(key, default)` hands back any object typed as an instance of the nested class
# `get`. Fixed in index.py: a call of `__setattr__`/`__delattr__` counts like `setattr`/`delattr`.

HOOKS = "rt18_escape_module_init_attribute_over_nested_class.py"


def test_a_nested_class_under_a_name_module_init_stores_is_not_that_class():
    escapes = _refused(HOOKS)
    assert any("_forward_hooks.get(" in v.code and ".ctypes" in v.rule for v in escapes)


def test_every_instance_attribute_of_a_listed_module_is_native_or_a_listed_store():
    import ast

    import torch

    from course_nn.grading.review.rules import Gate

    stores = Gate("x = 1", ast.parse("x = 1"), HW1).index.api_stores
    for made in (torch.nn.Module(), torch.nn.Linear(1, 1), torch.nn.ModuleDict(), torch.nn.ModuleList(),
                 torch.nn.Sequential(), torch.nn.Softmax(), torch.nn.CrossEntropyLoss(), torch.nn.ParameterList()):
        missing = sorted(n for n in vars(made) if n not in stores and n not in dir(type(made)))
        assert missing == [], (type(made).__name__, missing)


# ----------------------------------------------------------------------------------------------
# A class statement in a class body after `global NAME` (or `nonlocal NAME`) binds that outer name, not a class
# attribute. classes.py recorded every class statement written directly in a class body as a nested class (and
# families.sees took it for a class attribute, which Module.__getattr__ never overrides): `_m.Inner` was typed as
# the nested class while `_M` has no attribute `Inner`, and `_m.register_buffer("Inner", t)` made Module's
# `__getattr__` serve a tensor under it. Fixed in classes.py: only a class statement that binds in its class body
# is a nested class (`Classes.class_attrs`).

GLOBAL = "rt18_escape_global_class_in_class_body.py"


def test_a_class_statement_after_global_in_a_class_body_is_no_nested_class():
    escapes = _refused(GLOBAL)
    assert any("_m.Inner.numpy().ctypes" in v.code for v in escapes)


OUTER_ROUTES = [
    ("nonlocal", "def _f():\n    Inner = None\n\n    class _M(torch.nn.Module):\n        nonlocal Inner\n\n"
     "        class Inner:\n            class numpy:\n                class ctypes:\n                    pass\n\n"
     "    _m = _M()\n    _m.register_buffer('Inner', torch.zeros(1))\n    return _m.Inner.numpy().ctypes\n"),
    ("plain class", "class _P:\n    global Inner\n\n    class Inner:\n        class numpy:\n"
     "            class ctypes:\n                pass\n\n\n_v = _P().Inner.numpy().ctypes\n"),
]


@pytest.mark.parametrize(("name", "snippet"), OUTER_ROUTES, ids=[n for n, _ in OUTER_ROUTES])
def test_every_class_statement_binding_outside_its_body_is_no_nested_class(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


def test_a_nested_class_beside_a_global_declaration_stays_a_class():
    snippet = ("_COUNT = 0\n\n\nclass _P:\n    global _COUNT\n    _COUNT = 1\n\n    class Cfg:\n        class Deep:\n"
               "            scale = 2.0\n\n\n_v = _P().Cfg.Deep.scale\n_w = _P.Cfg.Deep()\n")
    assert review.check(_snippet_source(snippet), HW1).violations == []


ESCAPES = [REVERSED, HOOKS, GLOBAL]


@pytest.mark.sandbox
@pytest.mark.parametrize("part", ESCAPES)
def test_an_escape_of_this_pass_earns_nothing_sandboxed(tmp_path, grade, part):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(part))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


# ----------------------------------------------------------------------------------------------
# Fairness: what the fixes must keep.

FAIR = [PARTS1 / "rt18_fair_builtin_iterator_bases.py", PARTS1 / "rt18_fair_module_helper_nested_class.py"]


@pytest.mark.parametrize("part", FAIR, ids=[p.name for p in FAIR])
def test_fair_styles_keep_full_credit(tmp_path, part):
    result = _grade(tmp_path, HW1, part.parent / "correct_base.py", part)
    assert result.score == pytest.approx(100), report.details(result)
