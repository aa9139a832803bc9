"""A sixth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt6_*.py) are appended to the correct base, so their classes replace the
base's; the hw2 parts (tests/submissions/hw2/rt6_*.py) to hw2's correct base. Each hostile file asserts the
credit it must not earn; each fair file (rt6_fair_*.py) is correct code in an unusual legitimate style and
asserts full credit. The ones the grader gets wrong today are strict xfails whose reason says where the
hole is: remove the mark when fixed.
"""

from __future__ import annotations

import pytest
from test_redteam_fifth_pass import (  # the fifth pass's paths, markers and way to grade a planted part
    GATED,
    HW1,
    HW2,
    PARTS1,
    PARTS2,
    ROOT,
    _earned,
    _grade,
)

from course_nn.grading import report, review

SOLUTION1 = ROOT / "solutions" / "hw1_autograd" / "functions.py"


# ----------------------------------------------------------------------------------------------
# hw1: numerical differentiation. The in-order check compares tensors of exactly an input's size (or 2-4
# stacked copies), the order-free scan tensors of at least its size needing 90% of its values moved, and
# smaller tensors are accounted element by element over the call; the precision cases catch only low-order
# finite differences of Sigmoid / CrossEntropy.

NUMERICAL = [
    # held: nudged copies of part of an input (one half at a time) are accounted per input element over the
    # whole backward call (Watch._part, numdiff_nudge.part): the halves together cover it; Sigmoid's
    # eighth-order stencil passes the precision cases, so the watch is what catches it
    pytest.param("rt6_numdiff_split_halves", "Square", id="square-unit-step-halves"),
    pytest.param("rt6_numdiff_split_halves", "ReLU", id="relu-relative-step-halves"),
    pytest.param("rt6_numdiff_split_halves", "SquaredError", id="squared-error-unit-step-halves"),
    pytest.param("rt6_numdiff_high_order_halves", "Sigmoid", id="sigmoid-eighth-order-stencil-halves"),
    # held: batched nudges of half the basis (or half the rows) dodge the scan's 90%, but the work-growth
    # signal still sees C (or numel) evaluations per element, and Linear's unit step fails the 1e6 entries
    pytest.param("rt6_numdiff_batched_halves", "Linear", id="linear-batched-basis-halves"),
    pytest.param("rt6_numdiff_batched_halves", "CrossEntropy", id="cross-entropy-batched-stencil-row-halves"),
]


@pytest.mark.parametrize(("name", "task"), NUMERICAL)
def test_a_numerical_derivative_earns_no_backward_credit(tmp_path, name, task):
    part = PARTS1 / f"{name}.py"
    assert f"class {task}(" in part.read_text()
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", part)
    earned = _earned(result)
    assert earned[(task, "forward")] == 1, report.details(result)  # forward did nothing wrong
    assert {c: earned[(task, c)] for c in GATED} == {c: 0 for c in GATED}, report.details(result)


HW1_FAIR = [
    # sigmoid through tanh, a hand-written log-softmax, a row-then-batch mean, einsum, float64 backwards
    pytest.param("rt6_fair_unusual_formulas", id="tanh-sigmoid-einsum-float64-backwards"),
    # held: y / (y.sum(1) + 1e-12) and log(y + 1e-12) on probability targets are no nudge the watch counts
    pytest.param("rt6_fair_soft_target_epsilons", id="soft-targets-renormalised-with-epsilon"),
    # held: a Function's helper that never uses its first parameter as own state does not trust it, so any
    # caller may pass a tensor (review/classes.py Classes._receives)
    pytest.param("rt6_fair_static_helper_on_own_class", id="static-helper-called-by-class-name"),
]


@pytest.mark.parametrize("name", HW1_FAIR)
def test_an_honest_hw1_style_keeps_full_credit(tmp_path, name):
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / f"{name}.py")
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# hw1: another task's built-in doing Sigmoid's work (softmax over (z, 0) is sigmoid(z)). A built-in costs the
# Function that computes with it (all held): the child's recorders charge the running Function any built-in
# of the assignment (shortcuts.runtime_shortcuts); the gate alone charges code it cannot tie to tasks (a
# helper helper_reach cannot follow) to every task, and with the runs' records to its own task and the one that ran
# the built-in (review/verdict.py Verdict.shortcuts); the records never lift the charge of the built-in's own task.

def test_a_sigmoid_from_softmax_through_a_default_argument_earns_no_forward_credit(tmp_path):
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt6_shortcut_sigmoid_default_argument.py")
    earned = _earned(result)
    assert earned[("Sigmoid", "forward")] == 0 and earned[("Sigmoid", "compliance")] == 0, report.details(result)


def test_the_childs_records_never_lift_the_charge_the_gate_made(tmp_path):
    """The gate cannot tell who runs the softmax helper, so it charges softmax's own task, CrossEntropy; the
    runs' records (from the child, where student code runs) say only Sigmoid ran it. They add Sigmoid's
    charge and do not lift CrossEntropy's: a record a submission could shape never earns credit back."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt6_shortcut_sigmoid_default_argument.py")
    earned = _earned(result)
    assert earned[("CrossEntropy", "compliance")] == 0 and earned[("Sigmoid", "compliance")] == 0, \
        report.details(result)
    assert all(f == 1 for (t, _), f in earned.items() if t not in ("CrossEntropy", "Sigmoid")), report.details(result)


_SIGMOID = '''
import functools
import torch.nn.functional as F


def _two(z):
    return F.softmax(torch.stack([z, torch.zeros_like(z)]), dim=0)[0]


{before}


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = {call}
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
'''
_REACH = ("Sigmoid is not charged: the helper is reached through {how}, which helper_reach cannot follow, and the "
          "fallback charges softmax to CrossEntropy alone")
PATHWAYS = [
    pytest.param("", "_two(z)", id="direct-call"),  # held: followed
    pytest.param("def _wrap(f):\n    return f\n\n\n@_wrap\ndef _three(z):\n    return _two(z)", "_three(z)",
                 id="decorated-helper"),  # held: the decorated def is followed
    pytest.param("_p = functools.partial(_two)", "_p(z)", id="functools-partial"),
    pytest.param("_T = {'s': lambda z: _two(z)}", "_T['s'](z)", id="lambda-in-a-dict"),
    pytest.param("class _Tools:\n    two = staticmethod(_two)", "_Tools.two(z)", id="class-attribute"),
    pytest.param("class _Tools:\n    @staticmethod\n    def two(z):\n        return _two(z)", "_Tools.two(z)",
                 id="staticmethod-of-a-plain-class"),
    pytest.param("_l = lambda z: _two(z)", "_l(z)", id="module-lambda"),
    pytest.param("_FNS = (_two,)", "list(map(lambda f: f(z), _FNS))[0]", id="tuple-of-helpers-mapped"),
]


@pytest.mark.parametrize(("before", "call"), PATHWAYS)
def test_another_tasks_built_in_reached_any_way_costs_sigmoids_forward(before, call):
    source = SOLUTION1.read_text() + "\n\n" + _SIGMOID.format(before=before, call=call)
    verdict = review.check(source, HW1)
    assert not verdict.escapes, [v.text() for v in verdict.escapes]
    sigmoid = HW1.task("Sigmoid")
    assert any(verdict.in_forward(sigmoid, v) for v in verdict.shortcuts(sigmoid)), \
        {t.name: [v.text() for v in verdict.shortcuts(t)] for t in HW1.tasks}


def test_a_sigmoid_from_softmax_through_a_mapped_tuple_earns_no_forward_credit(tmp_path):
    """The helper is stored in a module-level tuple and called through `map`: the gate cannot list who calls
    it; the runs' records say Sigmoid's forward ran softmax and CrossEntropy's never did."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt6_shortcut_sigmoid_mapped_tuple.py")
    earned = _earned(result)
    assert {c: earned[("Sigmoid", c)] for c in ("forward", "compliance", *GATED)} == \
        {c: 0 for c in ("forward", "compliance", *GATED)}, report.details(result)


def test_a_softmax_inside_cross_entropy_costs_it_as_before(tmp_path):
    """The built-in's own task computing with it (its own class) still pays, forward included."""
    part = PARTS1 / "rt6_shortcut_softmax_in_cross_entropy.py"
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", part)
    earned = _earned(result)
    assert earned[("CrossEntropy", "forward")] == 0 and earned[("CrossEntropy", "compliance")] == 0, \
        report.details(result)
    assert all(f == 1 for (t, _), f in earned.items() if t != "CrossEntropy"), report.details(result)


def test_a_helper_table_of_honest_formulas_keeps_full_credit(tmp_path):
    """Fair: module-level helpers in a dict, reached through a default argument (the gate cannot follow
    them), computing from primitives: no task pays for them."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt6_fair_helper_table_default_argument.py")
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# A static helper of a Function that uses its first parameter as own state trusts it; its callers must then
# pass their own ctx: a helper cannot launder another object into a trusted receiver (all held).
_GEN_HELPER = "def _g():\n    yield 1\n\n\n"
LAUNDER = {
    "getattr-on-the-parameter": ("    @staticmethod\n    def _read(c, name):\n        return getattr(c, name)\n",
                                 'Sigmoid._read(_g(), "gi_" + "frame")'),
    "store-on-the-parameter": ("    @staticmethod\n    def _keep(c, v):\n        c.out = v\n        return c.out\n",
                               "Sigmoid._keep(_g(), z)"),
    "unlisted-name-read": ("    @staticmethod\n    def _peek(c):\n        return c.hidden\n", "Sigmoid._peek(_g())"),
    "passed-on-to-a-trusting-helper": ("    @staticmethod\n    def _inner(ctx, n):\n        return getattr(ctx, n)\n\n"
                                       "    @staticmethod\n    def _outer(c, n):\n        return Sigmoid._inner(c, n)\n",
                                       'Sigmoid._outer(_g(), "gi_frame")'),
}


@pytest.mark.parametrize(("helper", "call"), list(LAUNDER.values()), ids=list(LAUNDER))
def test_a_static_helper_cannot_launder_an_object_into_a_trusted_receiver(helper, call):
    stub = (ROOT / "assignments" / "hw1_autograd" / "functions.py").read_text() + "\n\n"
    part = (_GEN_HELPER + "class Sigmoid(Function):\n" + helper + "\n    @staticmethod\n    def forward(ctx, z):\n"
            f"        out = {call}\n        return out\n")
    escapes = review.check(stub + part, HW1).escapes
    first = len(stub.splitlines()) + 1
    assert any("may only be called with the caller's own" in v.rule for v in escapes), [v.text() for v in escapes]
    assert all(v.line >= first for v in escapes), [v.text() for v in escapes]


# ----------------------------------------------------------------------------------------------
# hw2: the MLP's data flow (grading/hw2/flow.py, child/probe_hw2.py)

# Held since: each marked call's backward factor depends on the gradient it gets (given_hw2.gain), so a gain
# measured through y's backward with another gradient is wrong in the parent's numbers; the child also counts
# each marked result's backward runs over the whole probe (flow.reran: two for one loss here).
def test_a_decoy_with_zero_weighted_real_calls_earns_nothing(tmp_path):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt6_mlp_decoy_zero_weighted_real_call.py")
    mlp = {c: f for (t, c), f in _earned(result).items() if t == "MLP"}
    assert mlp and all(f == 0 for f in mlp.values()), report.details(result)


def test_an_mlp_as_a_step_list_with_a_no_grad_path_keeps_full_credit(tmp_path):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt6_fair_mlp_step_list_no_grad_path.py")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# The gate: `.format` / `.format_map` reached by names the gate must list (review/dynamic.py). Each is
# appended to the untouched stub and must be refused as an escape at its own line (all held).

_GEN = "def _g():\n    yield 1\n"
FORMAT_HELD = {
    "format-map-unbound": _GEN + '_s = str.format_map("{a.gi_frame}", {"a": _g()})\n',
    "format-map-name-in-dict": _GEN + '_N = {"k": "format_map"}\n_s = getattr("{a.gi_frame}", _N["k"])({"a": _g()})\n',
    "name-from-for-loop": _GEN + 'for _n in ["format"]:\n    _s = getattr("{0.gi_frame}", _n)(_g())\n',
    "name-from-class-attribute": _GEN + 'class _K:\n    n = "format"\n_s = getattr("{0.gi_frame}", _K.n)(_g())\n',
    "name-by-augmented-assignment": _GEN + '_n = "for"\n_n += "mat"\n_s = getattr("{0.gi_frame}", _n)(_g())\n',
    "name-rebound-by-global": _GEN + ('_n = "upper"\ndef _set():\n    global _n\n    _n = "format"\n_set()\n'
                                      '_s = getattr("{0.gi_frame}", _n)(_g())\n'),
    "name-via-dict-get": _GEN + '_N = {"k": "format"}\n_s = getattr("{0.gi_frame}", _N.get("k"))(_g())\n',
    "getattr-mapped": _GEN + '_s = list(map(getattr, ["{0.gi_frame}"], ["format"]))[0](_g())\n',
    "str-subclass-template": _GEN + 'class _S(str):\n    pass\n_s = _S("{0.gi_frame}").format(_g())\n',
    "template-built-by-join": _GEN + '_t = "".join(["{0.", "gi_frame}"])\n_s = _t.format(_g())\n',
    "template-lowered": _GEN + '_s = "{0.GI_FRAME}".lower().format(_g())\n',
    "match-format-map": _GEN + 'match "{0.gi_frame}":\n    case str(format_map=f):\n        _s = f({0: _g()})\n',
    "field-in-conversion-spec": _GEN + '_s = "{0!r:{1.gi_frame}}".format(1, _g())\n',
}


@pytest.mark.parametrize("snippet", list(FORMAT_HELD.values()), ids=list(FORMAT_HELD))
def test_a_format_reached_another_way_is_refused_at_its_own_lines(snippet):
    stub = (ROOT / "assignments" / "hw1_autograd" / "functions.py").read_text() + "\n\n"
    escapes = review.check(stub + snippet, HW1).escapes
    first = len(stub.splitlines()) + 1
    assert escapes and all(v.line >= first for v in escapes), [v.text() for v in escapes]


_REGISTERED = '''
_STORE = []


def _keep(f):
    _STORE.append(f)
    return f


@_keep
def _squash(z):
    return torch.sigmoid(z)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = _STORE[0](z)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
'''


def test_a_helper_reached_only_through_a_decorators_registry_still_costs_its_builtins_task():
    """No name in the file calls `_squash` (its decorator keeps it; forward calls `_STORE[0]`): the gate
    cannot list its callers, so its `torch.sigmoid` costs Sigmoid, the built-in's own task, in forward."""
    verdict = review.check(SOLUTION1.read_text() + "\n\n" + _REGISTERED, HW1)
    sigmoid = HW1.task("Sigmoid")
    assert any(verdict.in_forward(sigmoid, v) for v in verdict.shortcuts(sigmoid)), \
        {t.name: [v.text() for v in verdict.shortcuts(t)] for t in HW1.tasks}
    assert any(verdict.in_forward(sigmoid, v) for v in verdict.shortcuts(sigmoid, {t.name: set() for t in HW1.tasks}))
