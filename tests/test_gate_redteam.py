"""A red-team pass on the static gate, by someone who did not write it (issue 21: "done when").

The attacker knows this repository and wants 100 without doing the work: from inside the graded file,
reach the process (a frame, `getattr`/`exec`, `sys`) and let the forger of test_gate_grading.py write
every result. Each hole found has a hostile part in tests/submissions/hw1/hostile_*.py, appended to the
*untouched stub* after the forger's text (`_FORGE`) and hostile_peek.py (a class whose methods read the
names it assigns: harmless until the file holds the class itself as a plain value, then a reader of any
object's attributes). The lines of a part that use its hole end in `# hole`, and the gate refuses the
file there and nowhere else: the rest of the route passes, so each file tests its one hole.

- end to end, in the sandbox: each part earns nothing; with the gate switched off, the same files earn
  full credit (the payloads work, so these tests can fail);
- a table of attacks (snippet, expectation) planted in the reference: the holes fixed here, and the
  attacks this pass tried that the gate refused from the start, so they stay refused;
- the gate never crashes or hangs the grader: absurd nesting, many bindings per name (counted, not
  timed); a coding line that makes the child read other code than the gate;
- honest code beside every fix keeps passing.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest
from test_gate_grading import FORGE, FRAMES, gate_off  # noqa: F401  (gate_off is a fixture)

from course_nn import registry
from course_nn.grading import engine, report, review, submission
from course_nn.grading.review import dynamic, resolve
from course_nn.grading.submission import decode

ROOT = Path(__file__).resolve().parents[1]
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
PARTS = ROOT / "tests" / "submissions" / "hw1"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
SOLUTION2 = ROOT / "solutions" / "hw2_mlp" / "mlp.py"
HOSTILE = sorted(p.stem for p in PARTS.glob("hostile_*.py") if p.stem != "hostile_peek")


def hostile_source(name: str) -> str:
    """The untouched stub, the forger's text, hostile_peek.py, then hostile part ``name``."""
    parts = [STUB.read_text(), f"_FORGE = {FORGE!r}\n", (PARTS / "hostile_peek.py").read_text(),
             (PARTS / f"{name}.py").read_text()]
    return "\n\n".join(parts)


def holes(source: str) -> set[int]:
    return {i for i, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# hole")}


def utf7_forger() -> str:
    """A text with the forger in a comment (what the gate reads) whose UTF-8 bytes Python reads as UTF-7
    (what the child runs), where `+AAo-` is a newline. Its coding line is Python's line 2, but
    str.splitlines() also splits at \x1c: the reader that removes coding lines saw it as line 3."""
    def plain(text: str) -> str:  # text whose UTF-8 bytes decode as UTF-7 to ``text``
        return "".join("+-" if c == "+" else c if ord(c) < 128 else c.encode("utf-7").decode() for c in text)

    payload = FRAMES["sys._getframe"] + FORGE
    text = ("#\x1c\n# coding: utf-7\n" + plain(STUB.read_text()) + "\n# "
            + plain("\n" + payload).replace("\n", "+AAo-") + "\n")
    assert text.encode("utf-8").decode("utf-7").endswith(payload + "\n")
    return text


def _splitlines_reader(text: str) -> str:
    """How the submission reader removed coding lines before this pass (on str.splitlines' lines)."""
    lines = text.splitlines(keepends=True)
    for i in range(min(2, len(lines))):
        if submission._COOKIE.match(lines[i].encode("utf-8", "replace")):
            lines[i] = "# (encoding line removed: graded as UTF-8)\n"
    return "".join(lines)


@pytest.fixture
def old_reader(monkeypatch):
    monkeypatch.setattr(submission, "_without_cookie", _splitlines_reader)


# ----------------------------------------------------------------------------------------------
# Each hostile part is refused at its `# hole` lines, and only there


def test_every_hostile_part_is_there():
    assert {"hostile_class_decorator", "hostile_shadowed_getattr", "hostile_type_compare",
            "hostile_subscript_capture", "hostile_alias_chain", "hostile_unbound_get_buffer",
            "hostile_nested_listed_name"} <= set(HOSTILE)


def test_the_peek_alone_passes_the_gate():
    """The route from a class value to the process is ordinary code: only the holes may stop it."""
    source = "\n\n".join([STUB.read_text(), f"_FORGE = {FORGE!r}\n", (PARTS / "hostile_peek.py").read_text()])
    assert not review.check(source, HW1).violations


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_part_is_refused_at_its_hole_and_only_there(name):
    source = hostile_source(name)
    refused = {v.line for v in review.check(source, HW1).escapes}
    assert refused and refused <= holes(source), [v.text() for v in review.check(source, HW1).escapes]


def test_a_coding_line_that_makes_the_child_read_other_code_is_refused():
    text = utf7_forger()
    imported = {a.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Import) for a in n.names}
    assert "sys" not in imported  # to the gate, the forger is a comment
    escapes = review.check(text, HW1).escapes
    assert escapes and "coding" in escapes[0].rule and "UTF-8" in escapes[0].rule


@pytest.mark.parametrize("head", ["#\r# coding: utf-7\n", "#\x1c\r\n# coding: utf-7\r\n", "#\n#\tcoding=utf-7\n"])
def test_a_coding_line_behind_other_line_ends_is_refused_too(head):
    """The gate compares the two readings only where Python could find a coding line (source.parse):
    a line 2 after a lone carriage return, or a `coding=` form, must still be compared and refused."""
    text = head + utf7_forger().removeprefix("#\x1c\n# coding: utf-7\n")
    escapes = review.check(text, HW1).escapes
    assert escapes and "coding" in escapes[0].rule, head


def test_the_reader_removes_a_coding_line_on_pythons_line_two(monkeypatch):
    raw = utf7_forger().encode("utf-7")
    monkeypatch.setattr(submission, "_without_cookie", _splitlines_reader)
    assert "coding: utf-7" in decode(raw, "functions.py").text  # the old reader left it
    monkeypatch.undo()
    text = decode(raw, "functions.py").text
    assert "coding: utf-7" not in text and text.encode("utf-8").decode("utf-8") == text
    assert not review.check(text, HW1).violations  # the stub, with a comment: what the child runs too
    latin = decode(b"#\x1c\n# coding: latin-1\nx = '\xe9'\n", "functions.py").text
    assert "coding: latin-1" not in latin and "x = '\u00e9'" in latin


# ----------------------------------------------------------------------------------------------
# End to end: nothing earned in the sandbox; everything earned with the gate off


def _grade_file(tmp_path: Path, name: str):
    path = tmp_path / "functions.py"
    if name == "utf7":
        path.write_bytes(utf7_forger().encode("utf-7"))
    else:
        path.write_text(hostile_source(name))
    return engine.grade(path, HW1, seed=3)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("name", [*HOSTILE, "utf7"])
def test_the_untouched_stub_with_a_hostile_part_scores_zero(tmp_path, name):
    result = _grade_file(tmp_path, name)
    assert result.score == 0, report.table(result)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.usefixtures("old_reader")
def test_the_gate_alone_stops_the_coding_line_the_old_reader_missed(tmp_path):
    result = _grade_file(tmp_path, "utf7")
    assert result.score == 0, report.table(result)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.usefixtures("gate_off")
@pytest.mark.parametrize("name", ["hostile_class_decorator", "hostile_shadowed_getattr", "hostile_type_compare"])
def test_the_hostile_parts_earn_full_credit_with_the_gate_off(tmp_path, name):
    result = _grade_file(tmp_path, name)
    assert result.score > 0.9 * HW1.total_points, report.table(result)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.usefixtures("gate_off", "old_reader")
def test_the_coding_line_earns_full_credit_with_the_gate_off_and_the_old_reader(tmp_path):
    result = _grade_file(tmp_path, "utf7")
    assert result.score > 0.9 * HW1.total_points, report.table(result)


# ----------------------------------------------------------------------------------------------
# The table: attacks planted in the reference, each refused as an escape

PRE = """
import functools
import collections
import dataclasses
import typing
import numpy as np

class _G(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ctypes = 0

    def forward(self, x):
        return self.ctypes

"""
# (name, snippet): every snippet is refused as an escape at one of its own lines. "fixed" marks the holes
# this pass found (each got through before its fix), "hardened" what was tightened without a known way to
# use it; the others were refused from the start.
REFUSED = [
    # -- fixed: values the gate took for the file's own class or method
    ("fixed: class decorator returns any object", "@functools.partial(lambda c: np.zeros(1))\nclass _A:\n"
     "    ctypes = 0\n_c = _A.ctypes"),
    ("fixed: class decorator numpy.asarray", "@np.asarray\nclass _A:\n    tofile = 0\n_A.tofile('x')"),
    ("fixed: trusted decorator called with a callable", "class _M(torch.nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.ctypes = 0\n"
     "    @functools.lru_cache(lambda f: functools.partial(f, np.zeros(1)))\n    def peek(self):\n"
     "        return self.ctypes"),
    ("fixed: no_grad called with a callable", "class _M(torch.nn.Module):\n"
     "    @torch.no_grad(lambda f: functools.partial(f, np.zeros(1)))\n    def peek(self):\n"
     "        return self.ctypes\n    def set(self):\n        self.ctypes = 1"),
    ("fixed: nested class rebound in its class body", "class _A:\n    class B:\n        ctypes = 0\n"
     "    B = np.zeros(1)\n_c = _A.B.ctypes"),
    ("fixed: nested class rebound in a subclass", "class _A:\n    class B:\n        ctypes = 0\nclass _A2(_A):\n"
     "    B = np.zeros(1)\n_c = _A2.B.ctypes"),
    ("fixed: nested class shadowed on self", "class _A:\n    class B:\n        ctypes = 0\n    def __init__(self):\n"
     "        self.B = np.zeros(1)\n    def go(self):\n        return self.B.ctypes"),
    ("nested guarded class maybe rebound", "class _A:\n    class B(torch.nn.Module):\n"
     "        def forward(self):\n            return self.ctypes\n    if False:\n        B = 1\n"
     "_c = _A.B.forward(np.zeros(1))"),
    ("fixed: nested guarded class under a listed name", "class _A:\n    class apply(_G):\n        pass\n"
     "_c = [_A][0].apply.forward(np.zeros(1), 0)"),
    ("fixed: class captured by a subscript in an annotation", "class _Grab:\n    def __getitem__(self, k):\n"
     "        return int\n_x: _Grab()[_G] = 1"),
    ("fixed: class captured by a defaultdict in isinstance", "_d = collections.defaultdict(int)\n"
     "isinstance(1, _d[_G])"),
    ("fixed: class captured by a subscript in raise", "_d = collections.defaultdict(int)\nraise _d[_G]"),
    ("fixed: class handed to an operand's reflected operator", "_x: _G + np.zeros(1, dtype=object) = 1"),
    ("fixed: type(x) == an object with __eq__", "class _Grab:\n    def __eq__(self, o):\n        return False\n"
     "_ok = type(_G()) == _Grab()"),
    ("fixed: type(x) in an object with __contains__", "class _Grab:\n    def __contains__(self, o):\n"
     "        return False\n_ok = type(_G()) in _Grab()"),
    ("fixed: type(x) compared to a name that may be an object", "class _Grab:\n    pass\n_Grab = _Grab()\n"
     "_ok = type(_G()) == _Grab"),
    ("a class beside type(x) in a chained comparison", "class _Grab:\n    def __eq__(self, o):\n"
     "        return False\n_ok = type(1) != _G == _Grab()"),
    ("fixed: alias of an alias, nine deep", "_A0 = _G\n" + "".join(f"_A{i} = _A{i - 1}\n" for i in range(1, 10))
     + "_c = _A9.forward(np.zeros(1), 0)"),
    ("fixed: maybe-shadowed getattr", "if False:\n    getattr = None\n_c = getattr(np.zeros(1), 'ct' + 'ypes')"),
    ("fixed: maybe-shadowed type in a class body", "class _A:\n    if False:\n        type = None\n"
     "    T = type('T', (), {})"),
    ("fixed: maybe-shadowed setattr", "for setattr in ():\n    pass\nsetattr(_G(), 'x' + 'y', 1)"),
    ("maybe-shadowed super", "def super():\n    pass\nclass _B(_G):\n    def forward(self, x):\n"
     "        return super(_G, np.zeros(1)).forward(x)"),
    ("fixed: class-body method maybe rebound, taken as a value", "class _M(torch.nn.Module):\n"
     "    def peek(self):\n        return self.ctypes\n    if False:\n        peek = None\n    keep = [peek]"),
    ("fixed: match pattern on a name that may be another class", "class _C:\n    ctypes = 0\n_C = np.ndarray\n"
     "match np.zeros(1):\n    case _C(ctypes=c):\n        pass"),
    ("fixed: base class that may be an array type", "class _C:\n    pass\n_C = np.ndarray\nclass _D(_C):\n"
     "    def get(self):\n        return self.ctypes\n    def set(self):\n        self.ctypes = 1"),
    ("fixed: unbound Module.get_buffer", "_x = torch.nn.Module.get_buffer(_G(), '_' + '_class__')"),
    ("fixed: unbound FunctionCtx.set_materialize_grads",
     "torch.autograd.function.FunctionCtx.set_materialize_grads(_G(), 'ctypes')"),
    ("fixed: unbound Module method through an own class", "_G.train(np.zeros(1), True)"),
    ("fixed: get_buffer on self, with its _buffers replaced", "class _M(torch.nn.Module):\n    def go(self):\n"
     "        self._buffers = ['_' + '_class__']\n        return self.get_buffer('_' + '_class__')"),
    ("fixed: getattr name from a dataclass field", "@dataclasses.dataclass\nclass _C:\n    pick: str = 'real'\n"
     "    def get(self, o):\n        return getattr(o, self.pick)\n_c = _C('ctypes').get(np.zeros(1))"),
    ("fixed: getattr name from a NamedTuple field", "class _P(typing.NamedTuple):\n    pick: str = 'real'\n"
     "    def get(self, o):\n        return getattr(o, self.pick)"),
    ("fixed: getattr name set by an unbound method", "class _C:\n    def __init__(self):\n"
     "        self.materialize_grads = 'real'\n    def get(self, o):\n"
     "        return getattr(o, self.materialize_grads)\n"
     "torch.autograd.Function.set_materialize_grads(_C(), 'ctypes')"),
    ("fixed: super() in a classmethod is the base's function itself", "class _C(_G):\n    @classmethod\n"
     "    def leak(cls, obj):\n        return super().forward(obj)\n_c = _C.leak(np.zeros(1))"),
    ("fixed: super() in a lambda binds to the lambda's argument", "class _C(_G):\n    def leak(self):\n"
     "        return lambda o: super().forward(o)"),
    ("fixed: getattr name stored from outside as .data", "class _C:\n    def __init__(self):\n"
     "        self.data = 'real'\n    def peek(self, o):\n        return getattr(o, self.data)\n_c = _C()\n"
     "[_c][0].data = 'ctypes'"),
    ("fixed: nested class named data, replaced from outside", "class _A:\n    class data:\n        ctypes = 0\n"
     "    def go(self):\n        return self.data.ctypes\n_a = _A()\n[_a][0].data = np.zeros(1)"),
    ("fixed: a __future__ import binding __name__", "from __future__ import annotations as __name__"),
    ("fixed: class-body annotation kept by a dataclass field", "_f = dataclasses.field(default=None)\n"
     "@dataclasses.dataclass\nclass _D:\n    x: _G = _f\n_c = _f.type.forward(np.zeros(1), 0)"),
    ("hardened: a computed dunder name through add_module", "class _M(torch.nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.add_module('_' + '_deepcopy__', torch.nn.Identity())"),
    ("hardened: a computed name through register_buffer", "class _M(torch.nn.Module):\n    def go(self, n):\n"
     "        self.register_buffer(n, torch.zeros(1))"),
    # -- refused from the start: spellings of the same reach this pass tried
    ("fullwidth getattr (NFKC)", "_x = \uff47\uff45\uff54\uff41\uff54\uff54\uff52(np.zeros(1), 'ctypes' + '')"),
    ("fullwidth eval (NFKC)", "_x = \uff45\uff56\uff41\uff4c('1')"),
    ("fullwidth attribute gi_frame (NFKC)", "def _g():\n    yield 1\n_f = _g().\uff47\uff49_frame"),
    ("untyped_storage", "_s = torch.ones(1).untyped_storage()"),
    ("grad_fn next_functions", "_n = torch.ones(1, requires_grad=True).exp().grad_fn"),
    ("data_ptr", "_p = torch.ones(1).data_ptr()"),
    ("numpy frompyfunc", "_f = np.frompyfunc(abs, 1, 1)"),
    ("numpy vectorize", "_f = np.vectorize(abs)"),
    ("numpy testing", "_t = np.testing"),
    ("dataclasses.fields", "_f = dataclasses.fields"),
    ("functools.singledispatch", "_f = functools.singledispatch"),
    ("Formatter through a format field", "_s = '{0.__class__}'.format(1)"),
    ("format_map item field", "_s = '{a[0]}'.format_map({'a': [1]})"),
    ("exception traceback", "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    _t = e.__traceback__"),
    ("exception with_traceback", "_e = ValueError().with_traceback(None)"),
    ("generator frame through getattr default", "def _g():\n    yield 1\n_f = getattr(_g(), 'gi_' + 'frame', 0)"),
    ("__init_subclass__", "class _A:\n    def __init_subclass__(cls):\n        pass"),
    ("descriptor __get__", "class _D:\n    def __get__(self, o, t):\n        return o"),
    ("__set_name__", "class _D:\n    def __set_name__(self, o, n):\n        pass"),
    ("__class_getitem__", "class _D:\n    def __class_getitem__(cls, k):\n        return k"),
    ("one-argument type as a value", "_t = type(_G())"),
    ("super with a foreign object", "class _B(_G):\n    def go(self):\n        return super(_B, np.zeros(1))"),
    ("default argument holds a guarded class", "def _f(c=_G):\n    return c"),
    ("lambda closes over a guarded class", "_f = lambda: _G"),
    ("fixed: getattr rebound by a function's global", "def _f():\n    global getattr\n    getattr = print\n"
     "_c = getattr(np.zeros(1), 'ct' + 'ypes')"),
    ("del of a module name", "del np"),
    ("walrus rebinding self", "class _M(torch.nn.Module):\n    def go(self, x):\n"
     "        [self := x for _ in range(1)]\n        return self.ctypes"),
    ("star-unpacked receiver", "_G.forward(*[np.zeros(1)], 0)"),
    ("torch.library", "_l = torch.library"),
    ("torch.ops", "_o = torch.ops.aten"),
    ("register_hook", "torch.ones(1).register_hook(print)"),
    ("register_forward_hook on a Module", "_G().register_forward_hook(print)"),
    ("Module.apply reaching a method through the class", "_G().apply(_G.forward)"),
    ("module-level __getattr__", "def __getattr__(name):\n    return name"),
    ("rebinding __name__ by a for loop", "for __name__ in ['__main__']:\n    pass"),
    ("rebinding __name__ by global", "def _f():\n    global __name__\n    __name__ = '__main__'"),
    ("async generator", "async def _g():\n    yield 1"),
    ("typing.get_type_hints", "_h = typing.get_type_hints"),
    ("operator.attrgetter", "import operator\n_a = operator.attrgetter('ctypes')"),
]


@pytest.mark.parametrize(("name", "snippet"), REFUSED, ids=[n for n, _ in REFUSED])
def test_every_attack_in_the_table_is_refused(name, snippet):
    base = SOLUTION.read_text() + PRE
    source = base + "\n" + snippet + "\n"
    verdict = review.check(source, HW1)
    first = len(base.splitlines()) + 1
    assert any(v.line >= first for v in verdict.escapes), (name, [v.text() for v in verdict.escapes])


@pytest.mark.parametrize(("name", "snippet"), [r for r in REFUSED if r[0].startswith(("fixed", "hardened"))],
                         ids=[n for n, _ in REFUSED if n.startswith(("fixed", "hardened"))])
def test_the_fixed_holes_are_refused_in_hw2_too(name, snippet):
    source = SOLUTION2.read_text() + PRE + "\n" + snippet + "\n"
    assert review.check(source, HW2).escapes, name


def test_hw2_handed_names_keep_an_own_class_method_out_of_reach():
    source = SOLUTION2.read_text() + PRE + textwrap.dedent("""
        class _H(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.ctypes = 0

            def ReLU(self):
                return self.ctypes

        _c = getattr(_H, "ReLU")(np.zeros(1))
    """)
    escapes = review.check(source, HW2).escapes
    assert any("_H.ReLU" in v.rule for v in escapes), [v.text() for v in escapes]


# ----------------------------------------------------------------------------------------------
# The gate never crashes or hangs the grader

DEEP = {
    "unary minus": "_x = " + "-" * 1000 + "1",
    "unary minus, past the parser": "_x = " + "-" * 20000 + "1",
    "attribute chain": "_x = np" + ".real" * 3000,
    "sum": "_x = " + "1 + " * 3000 + "1",
    "nested lists": "_x = " + "[" * 150 + "]" * 150,
    "nested calls": "_x = " + "abs(" * 150 + "1" + ")" * 150,
    "nested lambdas": "_x = " + "lambda: " * 300 + "1",
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_absurd_nesting_is_a_refusal_never_a_crash(name):
    source = SOLUTION.read_text() + "\nimport numpy as np\n" + DEEP[name] + "\n"
    verdict = review.check(source, HW1)
    assert verdict.escapes and ("deep" in verdict.escapes[0].rule or "levels" in verdict.escapes[0].rule)
    assert isinstance(review.review_flags(source, HW1), dict)


def test_a_notebook_holding_a_lone_surrogate_is_a_problem_not_a_traceback(tmp_path):
    """JSON may escape half a surrogate pair ("\\ud800"): no UTF-8 file holds it, so the sandbox's copy
    could not be written (a traceback in the grader before this pass)."""
    cell = {"cell_type": "code", "metadata": {"tags": ["course-nn:hw1:Square"]}, "outputs": [],
            "execution_count": None, "source": SOLUTION.read_text() + "\n_x = '\ud800'\n"}
    path = tmp_path / "hw1_autograd.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    assert "U+D800" in submission.read(path, HW1).problem
    result = engine.grade(path, HW1, isolate=False, visible_only=True)
    assert result.score == 0 and all("U+D800" in "\n".join(o.lines) for o in result.outcomes)
    assert review.check(SOLUTION.read_text() + "\n_x = '\ud800'\n", HW1).escapes  # the gate alone, too


def test_grading_a_deeply_nested_file_names_the_problem(tmp_path):
    path = tmp_path / "functions.py"
    path.write_text(SOLUTION.read_text() + "\n_x = " + "-" * 1000 + "1\n")
    result = engine.grade(path, HW1, isolate=False, visible_only=True)
    assert result.score == 0
    assert all("levels deep" in "\n".join(o.lines) for o in result.outcomes)


def test_many_bindings_per_name_cost_linear_work(monkeypatch):
    """Nine names, each bound 40 times to the one before: followed naively, 40**8 steps. The gate
    remembers what each name (in its scope, at its depth) is: count the steps, no clock."""
    calls = {"bindings": 0, "strings": 0}
    bindings = 2 * 9 * 40
    real_value, real_strings = resolve.Resolver._binding_value, dynamic.DynamicRules._bound_strings

    def count(kind):
        calls[kind] += 1
        assert calls[kind] < 20 * bindings, calls  # fails at once, rather than after 40**8 steps

    def counted_value(self, b, depth):
        count("bindings")
        return real_value(self, b, depth)

    def counted_strings(self, node, depth):
        count("strings")
        return real_strings(self, node, depth)

    monkeypatch.setattr(resolve.Resolver, "_binding_value", counted_value)
    monkeypatch.setattr(dynamic.DynamicRules, "_bound_strings", counted_strings)
    lines = ["class C0:\n    pass", "n0 = 'real'"]
    for i in range(1, 10):
        lines += [f"C{i} = C{i - 1}", f"n{i} = n{i - 1}"] * 40
    lines += ["class D(C9):\n    pass", "_y = C9.x", "def f(o):\n    return getattr(o, n9)"]
    review.check("\n".join(lines) + "\n", HW1)
    assert calls["bindings"] and calls["strings"], calls


def test_long_attribute_chains_over_a_big_literal_are_not_quoted_at_every_step(monkeypatch):
    """Every attribute read used to unparse its whole base for a message it might need: 90 reads over a
    literal of 100 000 characters meant 90 copies. Quotes are made only for a message now (counted)."""
    quoted = []
    real = ast.unparse
    monkeypatch.setattr(ast, "unparse", lambda node: quoted.append(node) or real(node))
    verdict = review.check("_x = [" + "0, " * 30000 + "]" + ".real" * 90 + "\n", HW1)
    assert not verdict.violations and len(quoted) == 0, len(quoted)


# ----------------------------------------------------------------------------------------------
# Honest code beside every fix keeps passing

HONEST = {
    "dataclass with options": "@dataclasses.dataclass(frozen=True, slots=False)\nclass _Cfg:\n    lr: float = 0.1",
    "cached method with constant options": ("class _M(torch.nn.Module):\n    def __init__(self):\n"
                                            "        super().__init__()\n        self.scale = 2.0\n"
                                            "    @functools.lru_cache(maxsize=None)\n    def factor(self):\n"
                                            "        return self.scale\n    @torch.no_grad()\n"
                                            "    def shrink(self):\n        return self.scale / 2"),
    "type compared every honest way": ("_a = type(1) is int\n_b = type(1) == float\n_c = type(1) in (int, float)\n"
                                       "_d = type(1) is not type(2.0)\n_e = type(torch.ones(1)) == torch.Tensor"),
    "annotations naming own classes": ("def _f(m: _G, ms: list[_G], o: typing.Optional[_G] = None,\n"
                                       "       d: dict[str, _G] | None = None) -> '_G':\n    return m"),
    "isinstance and except with own classes": ("class _E(ValueError):\n    pass\n_ok = isinstance(1, (_G, _E))\n"
                                               "try:\n    raise _E\nexcept (_E, KeyError):\n    pass"),
    "one alias of a class": "_Alias = _G\n_m = _Alias()",
    "swapping values through a temporary": "_a, _b = 1, 2\nfor _ in range(3):\n    _t = _a\n    _a = _b\n    _b = _t",
    "a namespace of plain nested classes": ("class _Fns:\n    class Linear:\n        apply = staticmethod(torch.nn."
                                            "functional.linear)\n_y = _Fns.Linear.apply(torch.ones(1, 2), "
                                            "torch.ones(3, 2))"),
    "a nested Module under its own name": ("class _Net(torch.nn.Module):\n    class Block(torch.nn.Module):\n"
                                           "        def forward(self, x):\n            return x\n"
                                           "    def __init__(self):\n        super().__init__()\n"
                                           "        self.block = _Net.Block()"),
    "getattr name from a plain attribute": ("class _P:\n    def __init__(self):\n        self.which = 'shape'\n"
                                            "    def get(self, t):\n        return getattr(t, self.which)"),
    "a UTF-8 coding line": "# -*- coding: utf-8 -*-",
    "methods called on objects": "_m = torch.nn.Linear(2, 2)\n_m.train(False)\n_p = list(_m.parameters())",
    "buffers registered by name every way": ("class _M(torch.nn.Module):\n    def __init__(self, n):\n"
                                             "        super().__init__()\n        for name in ('mean', 'var'):\n"
                                             "            self.register_buffer(name, torch.zeros(1))\n"
                                             "        for d in range(n):\n"
                                             "            self.register_parameter(f'w{d}', torch.nn.Parameter(torch.ones(1)))"),
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_code_beside_every_fix_passes(name):
    source = SOLUTION.read_text() + PRE + "\n" + HONEST[name] + "\n"
    verdict = review.check(source, HW1)
    assert not verdict.escapes, [v.text() for v in verdict.escapes]
