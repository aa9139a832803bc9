"""A twentieth red-team pass, by someone who did not write the grader.

This pass looked where earlier ones looked less: Python 3.11's scoping corners (class-body comprehensions and
lambdas, walrus, `match` captures, `except*`, augmented assignment, decorated definitions, annotations evaluated at
definition time), the string-formatting machinery, and callables of the listed classes read off the class. It found two
escapes (the last sections: `numpy.ndarray` as a constructor, fixed; a ParameterDict key `__array_interface__`,
closed with a ModuleDict twin after the pass); each other route below was tried against the untouched stub and held. They stay as regressions: each hostile
snippet must be refused at its line, and the control beside it (the same nested-class read where nothing rebinds the
name) must stay accepted, so a refusal here is the rebinding's and not a blanket one.
"""

from __future__ import annotations

import pytest
from test_redteam_eighteenth_pass import _refused
from test_redteam_fifteenth_pass import _escape_source, _snippet_source
from test_redteam_fifth_pass import HW1, PARTS1, _grade

from course_nn.grading import report, review

# An own class whose nested classes spell the tensor -> ndarray -> ctypes road: read on a value the gate types as an
# own instance of `_N`, each step is a class of the file; read on anything else, `.ctypes` is refused.
_N = ("class _N:\n    class numpy:\n        class ctypes:\n            class _ctypes:\n                pass\n\n\n")


def test_the_control_reads_nested_classes_of_an_own_instance():
    snippet = _N + "_y = _N()\n_v = _y.numpy.ctypes._ctypes\n"
    assert review.check(_snippet_source(snippet), HW1).violations == []


# A name bound to an own instance and, elsewhere, to something else: the name is "one of several things".
REBINDINGS = [
    ("walrus in a comprehension", "_w = [(_y := torch.zeros(2)) for _ in range(1)]\n"),
    ("walrus in a comprehension, global in a function",
     "\n\ndef _g():\n    global _y\n    return [(_y := torch.zeros(2)) for _ in range(1)]\n\n\n_g()\n"),
    ("augmented assignment (ndarray.__radd__ makes an object array)", "_y += torch.zeros(2).numpy()\n"),
    ("match capture", "match torch.zeros(2):\n    case _y:\n        pass\n"),
    ("match star capture", "match [torch.zeros(2)]:\n    case [*_y]:\n        pass\n"),
    ("match mapping rest", "match {}:\n    case {**_y}:\n        pass\n"),
    ("except* group", "try:\n    raise ExceptionGroup('g', [ValueError(1)])\nexcept* ValueError as _y:\n    pass\n"),
    ("decorated def", "\n\n@(lambda f: torch.zeros(2))\ndef _y():\n    pass\n\n\n"),
]


@pytest.mark.parametrize(("name", "rebind"), REBINDINGS, ids=[n for n, _ in REBINDINGS])
def test_a_name_rebound_by_a_scoping_corner_reads_no_nested_class(name, rebind):
    snippet = _N + "_y = _N()\n" + rebind + "_v = _y.numpy.ctypes._ctypes\n"
    escapes = review.check(_snippet_source(snippet), HW1).escapes
    assert any("_v = _y.numpy.ctypes._ctypes" in v.code for v in escapes), name


# A class body's comprehension (and lambda) is a function scope that skips the class body: only the first iterable
# is evaluated in the class body. Each direction of the mismatch, and a method default (evaluated in the class body).
CLASS_SCOPE = [
    ("element sees the global, not the class body",
     "_M = torch.zeros(2).numpy\n\n\nclass _K:\n    class _M:\n        class ctypes:\n            class _ctypes:\n"
     "                pass\n\n    v = [_M().ctypes._ctypes for _ in range(1)]\n"),
    ("lambda body sees the global",
     "_M = torch.zeros(2).numpy\n\n\nclass _K:\n    class _M:\n        class ctypes:\n            class _ctypes:\n"
     "                pass\n\n    f = lambda: _M().ctypes._ctypes  # noqa: E731\n"),
    ("first iterable sees the class body", _N + "class _K:\n    _N = torch.zeros(2).numpy\n"
     "    v = [y.ctypes._ctypes for y in [_N()]]\n"),
    ("method default sees the class body", _N + "class _K:\n    _N = torch.zeros(2).numpy\n\n"
     "    def f(self, a=_N()):\n        return a.ctypes._ctypes\n"),
]


@pytest.mark.parametrize(("name", "snippet"), CLASS_SCOPE, ids=[n for n, _ in CLASS_SCOPE])
def test_class_body_scopes_read_no_nested_class_of_another_binding(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes, name


# A dataclass or NamedTuple field named like a nested class: the instance attribute holds what the caller passed.
FIELDS = [
    ("dataclass field after the class", "@dataclasses.dataclass\nclass _F:\n" + _N[:-3].replace("class _N:\n", "")
     + "\n\n    numpy: object\n\n\n_v = _F(torch.zeros(2).numpy).numpy().ctypes._ctypes\n"),
    ("kw_only dataclass field", "@dataclasses.dataclass(kw_only=True)\nclass _F:\n    numpy: object\n\n"
     "    class numpy:\n        class ctypes:\n            class _ctypes:\n                pass\n\n\n"
     "_v = _F(numpy=torch.zeros(2).numpy).numpy().ctypes._ctypes\n"),
    ("dataclasses.replace", "@dataclasses.dataclass\nclass _F:\n    class numpy:\n        class ctypes:\n"
     "            class _ctypes:\n                pass\n\n    numpy: object = numpy\n\n\n"
     "_v = dataclasses.replace(_F(), numpy=torch.zeros(2).numpy).numpy().ctypes._ctypes\n"),
    ("typing.NamedTuple class", "import typing\n\n\nclass _F(typing.NamedTuple):\n    numpy: object\n\n"
     "    class numpy:\n        class ctypes:\n            class _ctypes:\n                pass\n\n\n"
     "_v = _F(torch.zeros(2).numpy).numpy().ctypes._ctypes\n"),
]


@pytest.mark.parametrize(("name", "snippet"), FIELDS, ids=[n for n, _ in FIELDS])
def test_a_field_named_like_a_nested_class_is_no_class(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes, name


# Format strings: attributes read inside a nested format spec, and `str.format` reached unbound or as a value.
FORMATS = [
    '_v = "{0:{1.__class__}}".format(1, torch.zeros(2))',
    '_v = "{0:{1:{2.__class__}}}".format(1, 2, torch.zeros(2))',
    '_v = "{0!s:{1.__class__}}".format(1, torch.zeros(2))',
    '_v = "{a:{b.real}}".format_map({"a": 1, "b": torch.zeros(2)})',
    '_v = str.format("{0.__class__}", torch.zeros(2))',
    '_v = str.format_map("{a.__class__}", {"a": torch.zeros(2)})',
    '_v = list(map(str.format, ["{0.__class__}"], [torch.zeros(2)]))',
    '_v = functools.reduce(str.format, [torch.zeros(2)], "{0.__class__}")',
    '_v = sorted(["{0.__class__}"], key=str.format)',
    'class _S(str):\n    pass\n\n\n_v = _S("{0.__class__}").format(torch.zeros(2))',
]


@pytest.mark.parametrize("snippet", FORMATS)
def test_format_fields_that_read_attributes_are_refused_however_reached(snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


def test_plain_nested_format_specs_stay_accepted():
    snippet = '_v = "{0:{1}}".format(1.5, 8) + f"{torch.zeros(1)!r:>{12}}" + "{a}".format_map({"a": 1})\n'
    assert review.check(_snippet_source(snippet), HW1).violations == []


# torch's grad-mode classes carry a Python `clone(self)` (`self.__class__(...)`): read off the class it runs on any
# object, so it is refused there like every method of a listed class.
@pytest.mark.parametrize("cls", ["torch.no_grad", "torch.set_grad_enabled", "torch.enable_grad"])
def test_clone_read_off_a_grad_mode_class_is_refused(cls):
    assert review.check(_snippet_source(f"_v = {cls}.clone(torch.zeros(2))\n"), HW1).escapes


# Annotations evaluated at definition time (a file without `from __future__ import annotations`).
ANNOTATED = ["def _f(a: _o.numpy().ctypes = 1) -> int:\n    return 1\n", "def _f(a) -> _o.numpy().ctypes:\n    return 1\n",
             "_y: _o.numpy().ctypes = 1\n", "_y: _o.numpy().ctypes\n", "class _K:\n    y: _o.numpy().ctypes\n",
             "def _f(*a: _o.numpy().ctypes):\n    return a\n", "def _f(a: _o.numpy().ctypes, /):\n    return a\n",
             "_y: typing.List[_o.numpy().ctypes] = []\n"]


@pytest.mark.parametrize("snippet", ANNOTATED)
def test_annotations_are_checked_as_the_expressions_they_are(snippet):
    source = "import typing\n\nimport torch\n\n_o = torch.zeros(2)\n" + snippet
    escapes = review.check(source, HW1).escapes
    assert any(".ctypes" in v.code for v in escapes), snippet


# ----------------------------------------------------------------------------------------------
# The one escape of this pass: a listed callable that forges objects. `numpy.ndarray` was listed (for `isinstance`)
# and so callable, and its constructor lays an array over any buffer with any dtype: `numpy.ndarray((1,),
# dtype=object, buffer=b)` over an int64 array `b` reads the integers the file writes there as object pointers
# (and writing an object stores its address), and a negative `offset=` is not checked. From a fake `bytes` header
# of any length, `numpy.ndarray(..., buffer=fake, offset=k)` reads any address: `len`'s module, its dict, and
# `.get("exec")` ran the forger with the runner's frame -- every name listed, nothing mistyped; the untouched stub
# earned 100. Fixed in expressions.py / index.py (`Index.raw`): `numpy.ndarray` is named only (isinstance,
# annotations, class patterns, `type(x) is`), never called nor held as a value.

RAW = "rt20_escape_object_array_over_int_buffer.py"


def test_an_array_laid_over_a_buffer_is_refused_at_the_constructor():
    escapes = _refused(RAW)
    assert any("numpy.ndarray((1,), dtype=object, buffer=_b)" in v.code and "forge" in v.rule for v in escapes)


RAW_ROUTES = ["_A = np.ndarray\n_v = _A((1,))", "from numpy import ndarray\n_v = ndarray((1,))",
              "_v = [np.ndarray][0]((1,))", "_v = functools.partial(np.ndarray, (1,))()",
              "_v = list(map(np.ndarray, [(1,)]))", "_v = np.ndarray(shape=(1,), dtype=object)"]


@pytest.mark.parametrize("snippet", RAW_ROUTES)
def test_numpy_ndarray_is_never_called_however_reached(snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


@pytest.mark.sandbox
def test_the_escape_of_this_pass_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(RAW))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


FAIR = [PARTS1 / "rt20_fair_ndarray_named_not_called.py", PARTS1 / "rt20_fair_module_containers_and_tables.py"]


@pytest.mark.parametrize("part", FAIR, ids=[p.name for p in FAIR])
def test_fair_styles_keep_full_credit(tmp_path, part):
    result = _grade(tmp_path, HW1, part.parent / "correct_base.py", part)
    assert result.score == pytest.approx(100), report.details(result)


# ----------------------------------------------------------------------------------------------
# A ParameterDict stored its callers' keys as attributes with `setattr(self, key, value)`, values that are not
# tensors kept as they are, and a key the file computes is no double-underscore literal.
# `ParameterDict({k: {"data": (addr, True), "typestr": "|O", ...}})` with `k` = "__array_interface__" handed numpy's
# array protocol (read on the instance) any address and dtype: `numpy.asarray` of it reads object pointers from
# memory. A function's default `hash` is its address rotated by 4 bits, and its builtins dict sits at offset 24:
# `.get("exec")` ran the forger, the untouched stub earned 100 (found at the end of this pass). The same road without
# ParameterDict: a class of the file that is a dict and a torch.nn.Module, filed by ModuleDict under such a key and
# served by Module.__getattr__. Closed at the two sources: ParameterDict is not listed (registry/api.py), and a
# Module family may not derive from Python's own types (review/bases.py, M.base_beside_module).

INTERFACE = "rt20_escape_parameterdict_array_interface.py"
MODULE_DICT = "rt20_escape_moduledict_dict_module.py"


@pytest.mark.parametrize("part", [INTERFACE, MODULE_DICT])
def test_an_array_interface_served_by_a_module_container_is_refused(part):
    assert review.check(_escape_source(part), HW1).escapes


@pytest.mark.parametrize("base", ["dict", "list", "int", "tuple", "collections.OrderedDict", "collections.Counter",
                                  "collections.defaultdict", "collections.deque", "functools.partial"])
def test_a_module_that_is_also_a_python_type_is_refused(base):
    snippet = f"import collections\nimport functools\n\n\nclass _X({base}, torch.nn.Module):\n    pass\n"
    assert review.check(_snippet_source(snippet), HW1).escapes


@pytest.mark.sandbox
@pytest.mark.parametrize("part", [INTERFACE, MODULE_DICT])
def test_the_array_interface_escape_earns_nothing_sandboxed(tmp_path, grade, part):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(part))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)
