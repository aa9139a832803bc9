"""A seventeenth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt17_escape_*.py) are appended to the untouched stub with `_FORGE` (escapes), so
their classes stand beside the stub's; each earned the untouched stub 100 before its fix. Fair parts
(rt17_fair_*.py) are appended to the correct base and must keep full credit.
"""

from __future__ import annotations

import pytest
from test_redteam_fifteenth_pass import _escape_source, _snippet_source
from test_redteam_fifth_pass import HW1, HW2, PARTS1, PARTS2, _grade

from course_nn.grading import report, review


def _refused(part: str) -> list:
    escapes = review.check(_escape_source(part), HW1).escapes
    assert escapes, part
    for v in escapes:  # a teaching line: what to write instead, never a grader-internal name
        assert v.rule and "review/" not in v.rule and "Index" not in v.rule
    return escapes


# ----------------------------------------------------------------------------------------------
# An own class whose listed base decides what calling it returns. values.py types `_x = _B(...)` as an own
# instance of `_B` ("the result of calling an own class, whose bases cannot replace construction"), but a numpy
# scalar type's `__new__` given an array returns the array, subclass or not: `_B(np.zeros(1))` is an ndarray, on
# which the names `_B` defines (`ctypes`, a nested class chain) were read. Fixed in bases.py: a listed base whose
# `__new__` may hand back another object (numpy scalar types, torch.no_grad/enable_grad) is refused.

SCALAR = "rt17_escape_scalar_base_instance_is_an_array.py"


def test_a_class_derived_from_a_numpy_scalar_type_is_refused_at_its_base():
    escapes = _refused(SCALAR)
    assert any("class _B(np.float64)" in v.code and "may not be a base class" in v.rule for v in escapes)


@pytest.mark.sandbox
@pytest.mark.parametrize("part", [SCALAR])
def test_a_numpy_scalar_base_earns_nothing_sandboxed(tmp_path, grade, part):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(part))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


CONSTRUCTION_ROUTES = [
    ("np.int64", "class _B(np.int64):\n    ctypes = None\n\n\n_c = _B(np.zeros(1)).ctypes"),
    ("np.bool_", "class _B(np.bool_):\n    ctypes = None\n\n\n_c = _B(np.zeros(1)).ctypes"),
    ("torch.no_grad", "class _B(torch.no_grad):\n    ctypes = None\n\n    def __call__(self, f):\n"
     "        return f\n\n\n_c = _B(np.zeros(1)).ctypes"),
]


@pytest.mark.parametrize(("name", "snippet"), CONSTRUCTION_ROUTES, ids=[n for n, _ in CONSTRUCTION_ROUTES])
def test_every_base_that_replaces_construction_is_refused(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


# ----------------------------------------------------------------------------------------------
# A receiver handed to another family's method. `Cls.method(self)` was admitted when `self`'s objects have no
# native attribute `Cls`'s lack (classes.compatible), and `Cls.method` is checked under `Cls`'s family's rules --
# its name tables (`getattr(self, self.key)`, `key` bound only to "weight" by that family) and its nested classes.
# But `self` there is the other family's object, whose `key` that family bound to "__class__": the call handed back
# the guarded class itself. Fixed in classes.py: such a call joins the two families (their names, values and nested
# classes are one), and `compatible` admits only a receiver of the same family.

FOREIGN = "rt17_escape_foreign_receiver_name_table.py"


def test_a_receiver_handed_to_another_familys_name_table_is_refused():
    escapes = _refused(FOREIGN)
    assert any("getattr(self, self.key)" in v.code for v in escapes)


@pytest.mark.sandbox
def test_a_receiver_handed_to_another_familys_name_table_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(FOREIGN))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


FOREIGN_ROUTES = [
    ("nested class typed on another family's object",
     "class _A:\n    class Inner:\n        ctypes = None\n\n    def read(self):\n        return self.Inner.ctypes\n\n\n"
     "class _B:\n    def __init__(self, a):\n        self.Inner = a\n        self.got = _A.read(self)\n\n\n"
     "_c = _B(np.zeros(1)).got"),
    ("through cls in a subclass's classmethod",
     "class _A:\n    def __init__(self):\n        self.key = 'weight'\n        self.weight = None\n\n"
     "    def read(self):\n        return getattr(self, self.key)\n\n\n"
     "class _B:\n    def __init__(self):\n        self.key = '_' + '_class__'\n\n        class _In(_A):\n"
     "            @classmethod\n            def k(cls):\n                return cls.read(self)\n\n"
     "        self.got = _In.k()\n"),
]


@pytest.mark.parametrize(("name", "snippet"), FOREIGN_ROUTES, ids=[n for n, _ in FOREIGN_ROUTES])
def test_every_foreign_receiver_route_is_refused(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


# ----------------------------------------------------------------------------------------------
# `setattr(self, NAME, v)` with a name the gate can list but that is not written out (a conditional between
# literals, a variable bound to one): admitted on a trusted receiver, but classes.py `_assigned` recorded only a
# written-out string (or a computed name's fixed start) as a name the family binds. So `self.Inner`, set that way
# to an array, was still typed as the nested class `Inner`, whose nested classes walk ctypes -> sys -> a frame.
# Fixed in classes.py (with resolve.Resolver.strings): every string such a name may be is recorded as bound, and
# a name the gate cannot list counts as binding any name.

SETATTR = "rt17_escape_setattr_by_table_shadows_nested_class.py"


def test_a_nested_class_shadowed_by_setattr_through_a_table_is_refused():
    escapes = _refused(SETATTR)
    assert any("_k.Inner.ctypes" in v.code for v in escapes)


@pytest.mark.sandbox
def test_a_nested_class_shadowed_by_setattr_through_a_table_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(SETATTR))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


SETATTR_ROUTES = [
    ("a variable", "class _K:\n    class Inner:\n        ctypes = None\n\n    def __init__(self, a):\n"
     "        name = 'Inner'\n        setattr(self, name, a)\n\n\n_c = _K(np.zeros(1)).Inner.ctypes"),
    ("a loop over names", "class _K:\n    class Inner:\n        ctypes = None\n\n    def __init__(self, a):\n"
     "        for name in ('x', 'Inner'):\n            setattr(self, name, a)\n\n\n_c = _K(np.zeros(1)).Inner.ctypes"),
    ("a dict table", "class _K:\n    class Inner:\n        ctypes = None\n\n    def __init__(self, a):\n"
     "        setattr(self, {'k': 'Inner'}['k'], a)\n\n\n_c = _K(np.zeros(1)).Inner.ctypes"),
]


@pytest.mark.parametrize(("name", "snippet"), SETATTR_ROUTES, ids=[n for n, _ in SETATTR_ROUTES])
def test_every_setattr_table_route_is_refused(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


# ----------------------------------------------------------------------------------------------
# Names a listed base serves that no class statement decides. `nested_class` typed `_a.Inner` as the nested class
# `_B.Inner` (a class of the same family) when nothing the gate sees rebinds it; but `_a` is an `_A`, which has no
# class attribute `Inner`, and torch.nn.Module answers a missing name from its tables: `_a.register_buffer("Inner",
# t)` (a listed method, on any object) makes `_a.Inner` a tensor, whose `.numpy()` the nested classes walked to
# ctypes -> sys -> a frame. ParameterDict goes further: `_B({"Inner": x})` stores `x` in the instance's dict, over
# the class attribute, and `update`/`[k] = v` store any name, name tables included. Fixed in families.py (used by
# classes.py): in a family with a `__getattr__` base a nested class is exactly that class only where every class
# of the family has it as a class attribute; a base whose `__setitem__` calls `setattr` stores any name.

SERVED = "rt17_escape_module_registers_over_nested_class.py"


def test_a_name_a_module_serves_is_not_typed_as_a_nested_class():
    escapes = _refused(SERVED)
    assert any("_a.Inner.numpy().ctypes" in v.code for v in escapes)


@pytest.mark.sandbox
def test_a_name_a_module_serves_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(SERVED))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


SERVED_ROUTES = [
    ("ParameterDict over a class attribute", "class _B(torch.nn.ParameterDict):\n    class Inner:\n"
     "        ctypes = None\n\n\n_c = _B({'Inner': np.zeros(1)}).Inner.ctypes"),
    ("ParameterDict over a name table", "class _B(torch.nn.ParameterDict):\n    def __init__(self):\n"
     "        super().__init__()\n        self.key = 'weight'\n        self.weight = None\n\n    def read(self):\n"
     "        return getattr(self, self.key)\n\n\n_b = _B()\n_b.update({'key': '_' + '_class__'})\n_c = _b.read()"),
    ("add_module on a base object", "class _A(torch.nn.Module):\n    pass\n\n\nclass _B(_A):\n    class Inner:\n"
     "        ctypes = None\n\n\n_a = _A()\n_a.add_module('Inner', torch.nn.Linear(1, 1))\n_c = _a.Inner.ctypes"),
]


@pytest.mark.parametrize(("name", "snippet"), SERVED_ROUTES, ids=[n for n, _ in SERVED_ROUTES])
def test_every_served_name_route_is_refused(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


# ----------------------------------------------------------------------------------------------
# The name given to `register_buffer`/`add_module`/... by keyword. The rule "a name the gate can list, or one that
# starts with a letter" (expressions.arguments) and the record of names a family registers (classes._named_store)
# read only the first positional argument: `self.add_module(name="__deepcopy__", module=m)` registered a
# double-underscore attribute that torch.nn.Module's `__getattr__` serves (copy.deepcopy would call it). No full
# escape was shown through it; closed all the same (classes.registered_name): `name=` is that argument, and a
# name that may come from `**options` is one the gate cannot list.

REGISTER_ROUTES = [
    ("a dunder name by keyword", "class _M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        self.add_module(name='__deepcopy__', module=None)\n"),
    ("a computed dunder name by keyword", "class _M(torch.nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.register_buffer(name='_' + '_deepcopy__', tensor=torch.zeros(1))\n"),
    ("a name from **options", "class _M(torch.nn.Module):\n    def __init__(self, **kw):\n        super().__init__()\n"
     "        self.add_module(**kw)\n"),
]


@pytest.mark.parametrize(("name", "snippet"), REGISTER_ROUTES, ids=[n for n, _ in REGISTER_ROUTES])
def test_every_registered_name_is_checked_however_it_is_passed(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


def test_a_plain_name_registered_by_keyword_is_not_refused():
    snippet = ("class _M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
               "        self.register_buffer(name='scale', tensor=torch.ones(1))\n")
    assert review.check(_snippet_source(snippet), HW1).violations == []


# ----------------------------------------------------------------------------------------------
# Fairness: what the fixes must keep. Helper classes derived from Python's own value types (float, tuple, deque,
# functools.partial, an exception); Functions that hand their ctx to another Function's static methods, keep
# values on ctx with `setattr` over written-out names and read one back through a name table, with one of them in
# the setup_context style (joining families must not make forward's ctx an input for the others); an MLP deriving
# from a base Module of the file whose nested helper class (with methods) it reads through `self`, beside a
# ParameterDict subclass of its own.

FAIR = [(HW1, PARTS1 / "rt17_fair_builtin_bases.py"), (HW1, PARTS1 / "rt17_fair_shared_ctx_helpers.py"),
        (HW2, PARTS2 / "rt17_fair_mlp_nested_init_class.py")]


@pytest.mark.parametrize(("assignment", "part"), FAIR, ids=[p.name for _, p in FAIR])
def test_fair_styles_keep_full_credit(tmp_path, assignment, part):
    result = _grade(tmp_path, assignment, part.parent / "correct_base.py", part)
    assert result.score == pytest.approx(100), report.details(result)


HONEST = [
    ("a subclass of an own Function hands its ctx on",
     "class _Base(torch.autograd.Function):\n    @staticmethod\n    def backward(ctx, g):\n        return g\n\n\n"
     "class _Keep(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        ctx.kept = 1\n"
     "        return x.clone()\n\n    @staticmethod\n    def backward(ctx, g):\n        return g\n\n\n"
     "class _Twice(_Base):\n    @staticmethod\n    def forward(ctx, x):\n        return _Keep.forward(ctx, x) * 2\n"),
    ("a plain helper class with a static method beside a guarded one",
     "class _Util:\n    @staticmethod\n    def norm(x):\n        return _Scale.of(x)\n\n\n"
     "class _Scale:\n    def __init__(self):\n        self.k = 2\n\n    @staticmethod\n    def of(x):\n"
     "        return x * 2\n\n\n_TOOLS = [_Util]\n"),
]


@pytest.mark.parametrize(("name", "snippet"), HONEST, ids=[n for n, _ in HONEST])
def test_honest_shared_helpers_are_not_refused(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).violations == []
