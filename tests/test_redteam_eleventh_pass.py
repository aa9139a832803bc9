"""An eleventh red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt11_*.py) are appended to the correct base, so their classes replace the base's.
Each hostile file asserts the credit it must not earn; each fair file (rt11_fair_*.py) is correct code in an
unusual legitimate style and asserts full credit. The ones the grader gets wrong today are strict xfails whose
reason says where the hole is: remove the mark when fixed.
"""

from __future__ import annotations

import pytest
from test_gate_grading import FORGE
from test_redteam_fifth_pass import HW1, PARTS1, STUB1, _earned, _grade, _write

from course_nn.grading import report, review

BASE1 = PARTS1 / "correct_base.py"


# ----------------------------------------------------------------------------------------------
# The gate (headline): a listed class handed on as a value. docs/security.md says a method of a listed class is
# read from objects, never from the class (`FunctionCtx.set_materialize_grads(obj, v)` runs torch's code with any
# object as self: tests/test_gate_redteam.py has it as fixed). But the class reached through a container or a
# call -- `defaultdict(FunctionCtx).default_factory`, `[FunctionCtx][0]`, `(lambda c: c)(FunctionCtx)` -- was an
# unknown value, on which `.set_materialize_grads` is a listed attribute. Unbound, it sets `materialize_grads` on
# an own object to any string, and the gate trusted that own attribute to hold only the literal the file binds it
# to, so `getattr(x, self.materialize_grads)` read any attribute: numpy -> ctypes -> sys -> exec, the forger of
# test_gate_grading.py with the runner's frame. Appended to the untouched stub it earned 100 of 100, sandboxed.
# Fixed at both legs: a listed class whose methods a value the gate cannot type may read (Index.methods) is, like
# an own class with trusted methods, never a bare value; and an own attribute named like one a listed class's
# code stores (Index.api_stores: materialize_grads, to_save, training, ...) is never a name table for getattr.

ESCAPE = PARTS1 / "rt11_escape_listed_class_as_value.py"


def _escape_source() -> str:
    return "\n\n".join([STUB1.read_text(), f"_FORGE = {FORGE!r}\n", ESCAPE.read_text()])


def _holes(source: str) -> set[int]:
    return {i for i, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# hole")}


def test_a_listed_class_handed_on_as_a_value_is_refused_at_its_hole():
    source = _escape_source()
    assert {v.line for v in review.check(source, HW1).escapes} & _holes(source)


@pytest.mark.sandbox
def test_a_listed_class_handed_on_as_a_value_earns_nothing_sandboxed(tmp_path, grade):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source())
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


# Every route that hands a listed class (or an own class that inherits its methods) on as a value, each refused at
# its hole and only there: the rest of the route (an unbound method called on an own object) passes the gate, so
# each snippet tests its one hole. _Box is harmless on its own: an own object for the unbound method to run on.
_BOX = ("import collections\nimport dataclasses\nimport functools\n\nimport numpy as np\n"
        "from torch.autograd.function import FunctionCtx\n\n\nclass _Box:\n    pass\n\n\n")
ROUTES = [
    ("defaultdict default_factory", "_s = collections.defaultdict(FunctionCtx).default_factory  # hole\n"
     "_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("list item", "_s = [FunctionCtx][0]  # hole\n_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("dict get", "_s = {'k': FunctionCtx}.get('k')  # hole\n_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("lambda", "_s = (lambda c: c)(FunctionCtx)  # hole\n_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("next iter", "_s = next(iter([FunctionCtx]))  # hole\n_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("functools.reduce", "_s = functools.reduce(lambda a, b: b, [0, FunctionCtx])  # hole\n"
     "_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("functools.partial", "_s = functools.partial(FunctionCtx)  # hole"),
    ("alias", "_C = FunctionCtx  # hole\n_C.set_materialize_grads(_Box(), 'ctypes')"),
    ("getattr on its module", "_s = getattr(torch.autograd.function, 'FunctionCtx')  # hole\n"
     "_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("default argument", "def _f(c=FunctionCtx):  # hole\n    return c\n_f().set_materialize_grads(_Box(), 'ctypes')"),
    ("returned", "def _f():\n    return FunctionCtx  # hole\n_f().set_materialize_grads(_Box(), 'ctypes')"),
    ("yielded", "def _f():\n    yield FunctionCtx  # hole\nnext(_f()).set_materialize_grads(_Box(), 'ctypes')"),
    ("for over a tuple", "for _c in (FunctionCtx,):  # hole\n    _c.set_materialize_grads(_Box(), 'ctypes')"),
    ("conditional", "_s = FunctionCtx if _Box() else None  # hole\n_s.set_materialize_grads(_Box(), 'ctypes')"),
    ("or", "(None or FunctionCtx).set_materialize_grads(_Box(), 'ctypes')  # hole"),
    ("walrus", "(_s := FunctionCtx).set_materialize_grads(_Box(), 'ctypes')  # hole"),
    ("tuple unpacking", "_a, _b = FunctionCtx, 1  # hole\n_a.set_materialize_grads(_Box(), 'ctypes')"),
    ("keyword argument", "_d = dict(k=FunctionCtx)  # hole\n_d['k'].set_materialize_grads(_Box(), 'ctypes')"),
    ("dataclass field's .type", "_f = dataclasses.field(default=None)\n@dataclasses.dataclass\nclass _D:\n"
     "    x: FunctionCtx = _f  # hole\n_f.type.set_materialize_grads(_Box(), 'ctypes')"),
    ("torch.autograd.Function", "[torch.autograd.Function][0].set_materialize_grads(_Box(), 'ctypes')  # hole"),
    ("torch.nn.Module", "[torch.nn.Module][0].train(_Box(), True)  # hole"),
    ("torch.nn.Linear", "[torch.nn.Linear][0].load_state_dict(_Box(), {})  # hole"),
    ("torch.Tensor", "[torch.Tensor][0].backward(_Box())  # hole"),
    ("an own FunctionCtx subclass without methods", "class _P(FunctionCtx):\n    pass\n\n\n"
     "[_P][0].set_materialize_grads(_Box(), 'ctypes')  # hole"),
    ("an own Module subclass without methods", "class _M(torch.nn.Module):\n    pass\n\n\n"
     "[_M][0].train(_Box(), True)  # hole"),
    ("an own nested class through getattr", "class _O:\n    class Inner:\n        def forward(self):\n"
     "            return self.ctypes\n\n    def go(self):\n        return getattr(self, 'Inner')  # hole\n\n\n"
     "_O().go().forward(np.zeros(1))"),
]


@pytest.mark.parametrize(("name", "snippet"), ROUTES, ids=[n for n, _ in ROUTES])
def test_every_route_that_hands_a_class_with_methods_on_is_refused_at_its_hole(name, snippet):
    source = STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


# The second leg: a listed class's method called *bound* on an own object that inherits it writes an own attribute
# (`self.set_materialize_grads(v)` in a FunctionCtx subclass), so the gate never takes a name that code stores for
# one only the file binds: not as a getattr name table, not as a nested class that nothing else may replace.
STORED = [
    ("bound set_materialize_grads, then a getattr name", "class _Q(FunctionCtx):\n    def __init__(self):\n"
     "        self.materialize_grads = 'real'\n\n    def of(self, x):\n"
     "        return getattr(x, self.materialize_grads)  # hole\n\n\n_q = _Q()\n"
     "_q.set_materialize_grads('ctypes')\n_q.of(np.zeros(1))"),
    ("bound set_materialize_grads over a nested class", "class _Q(FunctionCtx):\n    class materialize_grads:\n"
     "        ctypes = 0\n\n    def go(self, x):\n        self.set_materialize_grads(x)\n"
     "        return self.materialize_grads.ctypes  # hole\n\n\n_Q().go(np.zeros(1))"),
    *((f"{name}, never a name table", f"class _C:\n    def __init__(self):\n        self.{name} = 'real'\n\n"
       f"    def of(self, x):\n        return getattr(x, self.{name})  # hole")
      for name in ("materialize_grads", "to_save", "dirty_tensors", "non_differentiable", "training")),
]


@pytest.mark.parametrize(("name", "snippet"), STORED, ids=[n for n, _ in STORED])
def test_an_own_attribute_a_listed_class_stores_is_never_trusted_to_hold_the_files_literal(name, snippet):
    source = STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"
    assert {v.line for v in review.check(source, HW1).escapes} == _holes(source)


# Honest uses of the same classes, in every position the language keeps for them: no escape.
HONEST = [
    ("called", "_m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())\n"
     "_p = torch.nn.Parameter(torch.zeros(1))"),
    ("subclassed", "class _M(torch.nn.Module):\n    def forward(self, x):\n        return x\n\n\n_m = _M()"),
    ("isinstance", "def _f(x):\n    return isinstance(x, (torch.Tensor, torch.nn.Module))"),
    ("except", "try:\n    _e = None\nexcept (ValueError, TypeError):\n    _e = 1"),
    ("type(x) is", "def _f(x):\n    return type(x) is torch.Tensor"),
    ("typing.cast", "import typing\n\n_y = typing.cast(torch.Tensor, torch.zeros(1))"),
    ("annotations", "import typing\n\n\ndef _f(x: torch.Tensor, m: torch.nn.Module | None = None) -> "
     "typing.Optional[torch.Tensor]:\n    y: torch.Tensor = x\n    return y"),
    ("dataclass fields", "@dataclasses.dataclass\nclass _L:\n    w: torch.Tensor\n    b: torch.Tensor | None = None\n"
     "    parts: list[torch.Tensor] = dataclasses.field(default_factory=list)"),
    ("NamedTuple fields", "import typing\n\n\nclass _P(typing.NamedTuple):\n    w: torch.Tensor\n    n: int = 0"),
    ("a decorator called", "@torch.no_grad()\ndef _f(x):\n    return x"),
    ("a bare decorator", "class _M(torch.nn.Module):\n    @torch.no_grad\n    def peek(self, x):\n        return x"),
]


@pytest.mark.parametrize(("name", "snippet"), HONEST, ids=[n for n, _ in HONEST])
def test_classes_with_methods_keep_every_honest_position(name, snippet):
    source = STUB1.read_text() + "\n\n" + _BOX + snippet + "\n"
    assert review.check(source, HW1).escapes == []


# ----------------------------------------------------------------------------------------------
# hw1 gradcheck: a backward that replays the grader's own finite differences. probe_hw1._gradcheck calls the
# Function's forward at x ± eps·e_j for every entry j (the points are every entry: inputs are small) *before* it
# asks backward for the analytic Jacobian. A forward that keeps each input and output it sees (a module-level
# dict) hands backward exactly the numbers the parent's central difference is made of; backward finds the pairs
# that differ from its saved input in one entry and divides. No nudged value is formed in backward (the watch
# sees none), no calculus is written, and elsewhere (the backward and edge cases) it returns zeros (None only where an input is None): every
# Function keeps the right forward (20%, deserved) and earns gradcheck (15%) and compliance with it.

REPLAY = PARTS1 / "rt11_gradcheck_replays_the_graders_points.py"
def test_a_backward_that_replays_the_graders_gradcheck_points_earns_no_gradcheck_credit(tmp_path):
    """Held since probe_hw1._gradcheck asks backward for the Jacobian before any perturbed forward."""
    result = _grade(tmp_path, HW1, BASE1, REPLAY)
    earned = _earned(result)
    assert {t.name: earned[(t.name, "gradcheck")] for t in HW1.tasks} == {t.name: 0 for t in HW1.tasks}, \
        report.details(result)


def test_the_replaying_backward_loses_backward_and_keeps_forward(tmp_path):
    """Held: it computes no derivative outside gradcheck, and its forwards are the base's."""
    earned = _earned(_grade(tmp_path, HW1, BASE1, REPLAY))
    assert {k: f for k, f in earned.items() if k[1] == "backward" and f} == {}
    assert all(earned[(t.name, "forward")] == 1 for t in HW1.tasks)


@pytest.mark.sandbox
def test_a_backward_that_replays_the_graders_gradcheck_points_earns_no_gradcheck_credit_sandboxed(tmp_path, grade):
    result = grade(_write(tmp_path, HW1, BASE1, REPLAY), HW1, seed=3)
    assert not result.grader_error, result.grader_error
    assert {t: f for (t, c), f in _earned(result).items() if c == "gradcheck" and f} == {}, report.details(result)


FAKE = PARTS1 / "rt11_gradcheck_fakes_forward_near_known_points.py"


def test_a_forward_that_fakes_its_values_near_known_points_earns_no_gradcheck_credit(tmp_path):
    """The replay turned round: forward returns, at a point it saw with one entry nudged, the output it gave
    there, so its finite differences are zero like its backward. Held since forward's own differences must be
    the true slopes (hw1/checks._slopes_off); its right forward keeps its credit."""
    result = _grade(tmp_path, HW1, BASE1, FAKE)
    earned = _earned(result)
    assert {t: earned[(t, "gradcheck")] for t in ("Square", "Sigmoid")} == {"Square": 0, "Sigmoid": 0}, \
        report.details(result)
    assert earned[("Square", "forward")] == 1 and earned[("Sigmoid", "forward")] == 1, report.details(result)
    lines = [ln for o in result.outcomes if o.task == "Sigmoid" and o.category == "gradcheck" for ln in o.lines]
    assert any("your forward's slope here is not the function's" in ln for ln in lines), lines


# ----------------------------------------------------------------------------------------------
# A documented limit (docs/security.md): the elementwise Functions made by a factory, a closure over f and f' that
# returns a Function class, each task's name bound once to a call of it. Honest, but the class returned is a
# value, and a Function class held as a value carries torch.autograd.Function's own methods
# (`.set_materialize_grads`, `.mark_dirty`), which read off the class run on any object first: exactly the escape
# above (the "own FunctionCtx subclass" route). Typing what a function returns would take an analysis across
# calls the gate does not make, so the file is refused, at `return _Elementwise` only, with one line that teaches.

FACTORY = PARTS1 / "rt11_limit_function_factory.py"


def test_factory_made_functions_are_refused_at_the_return_with_the_way_out():
    source = BASE1.read_text() + "\n\n" + FACTORY.read_text()
    escapes = review.check(source, HW1).escapes
    assert {v.line for v in escapes} == _holes(source)
    (line,) = escapes
    assert "define each Function as a class at module level" in line.rule, line.rule
    assert "outside what the grader can check" in line.rule, line.rule


def test_factory_made_functions_earn_nothing_and_the_student_is_told_why(tmp_path):
    result = _grade(tmp_path, HW1, BASE1, FACTORY)
    assert result.score == 0, report.details(result)
    assert any("define each Function as a class at module level" in g for g in result.gate), result.gate
