"""A seventh red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt7_*.py) are appended to the correct base, so their classes replace the
base's; the hw2 parts (tests/submissions/hw2/rt7_*.py) to hw2's correct base. Each hostile file asserts the
credit it must not earn; each fair file (rt7_fair_*.py) is correct code in an unusual legitimate style and
asserts full credit. The ones the grader gets wrong today are strict xfails whose reason says where the
hole is: remove the mark when fixed.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from test_redteam_fifth_pass import (  # the fifth pass's paths, markers and way to grade a planted part
    GATED,
    HW1,
    HW2,
    PARTS1,
    PARTS2,
    STUB1,
    _earned,
    _grade,
    _open,
)

from course_nn.grading import engine, report, review

# ----------------------------------------------------------------------------------------------
# hw1: numerical differentiation one element at a time. Every nudged copy is a 0-dim tensor: the in-order
# check and the order-free scan compare tensors of at least the input's size, numdiff_nudge.Parts skips
# one-element pieces, and a constant amount of work per element never grows like numel² (compliance._grew).
# Sigmoid's and CrossEntropy's eighth-order stencil passes the accuracy and precision cases; ReLU's relative
# step never straddles the kink, so its cases near the kink pass too. Held since the watch keeps the call's
# one-element results and pairs them (numdiff_scalar.Scalars): two that average to an input element, 90% of them.

NUMERICAL = [
    pytest.param("rt7_numdiff_scalar_loops", "Sigmoid", id="sigmoid-eighth-order-stencil-per-element"),
    pytest.param("rt7_numdiff_scalar_loops", "ReLU", id="relu-relative-step-per-element"),
    pytest.param("rt7_numdiff_scalar_loops", "CrossEntropy", id="cross-entropy-stencil-per-logit"),
    pytest.param("rt7_numdiff_scalar_forward_difference", "ReLU", id="relu-one-sided-relative-step-per-element",
                 marks=_open("child/numdiff_scalar.py pairs one-element evaluations only as a central difference (two "
                             "numbers that average to x[i]); a forward difference per element makes one nudged number "
                             "(x[i] + h, f(x[i]) on the view itself), and a lone number near x[i] is no sign (some "
                             "input value lies within a step of almost any number); ReLU's relative step never "
                             "crosses the kink, so its slope is exact: ReLU earns full credit (docs/security.md)")),
    # held: a different step per element (seven sizes in turn) is still paired as x' + h and x' - h
    pytest.param("rt7_numdiff_varying_steps", "Sigmoid", id="sigmoid-stencil-varying-steps"),
    pytest.param("rt7_numdiff_varying_steps", "ReLU", id="relu-relative-varying-steps"),
    pytest.param("rt7_numdiff_varying_steps", "SquaredError", id="squared-error-varying-steps"),
]


@pytest.mark.parametrize(("name", "task"), NUMERICAL)
def test_a_numerical_derivative_earns_no_backward_credit(tmp_path, name, task):
    part = PARTS1 / f"{name}.py"
    assert f"class {task}(" in part.read_text()
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", part)
    earned = _earned(result)
    assert earned[(task, "forward")] == 1, report.details(result)  # forward did nothing wrong
    assert {c: earned[(task, c)] for c in GATED} == {c: 0 for c in GATED}, report.details(result)


# ----------------------------------------------------------------------------------------------
# Crashing the grader: an exception whose __str__ raises another of its own class.

CRASH = PARTS1 / "rt7_crash_exception_str_raises_itself.py"


def test_an_exception_that_cannot_be_printed_is_a_result_in_process(tmp_path):
    """Held since runner.describe_exception guards str(exc): a placeholder, never an error while describing one."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", CRASH)
    earned = _earned(result)
    assert all(f == 0 for (t, _), f in earned.items() if t == "Sigmoid"), report.details(result)
    assert all(f == 1 for (t, _), f in earned.items() if t != "Sigmoid"), report.details(result)
    assert "its message could not be shown" in report.details(result)


@pytest.mark.sandbox
def test_an_exception_that_cannot_be_printed_costs_only_its_function_in_the_sandbox(tmp_path):
    """Held: that costs Sigmoid, and no other task; the feedback says the message could not be shown."""
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text() + "\n\n" + CRASH.read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=3)
    earned = _earned(result)
    assert all(f == 0 for (t, _), f in earned.items() if t == "Sigmoid"), report.details(result)
    assert all(f == 1 for (t, _), f in earned.items() if t != "Sigmoid"), report.details(result)
    assert "its message could not be shown" in report.details(result)


# ----------------------------------------------------------------------------------------------
# The gate: `self` rebound by every binding Python has, then used to read a name the class sets on a value
# that has it natively (an array's `.ctypes`). Each is appended to the untouched stub and refused at its own
# lines (all held).

_PRE = ("import numpy as np\n\n\nclass _K(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.ctypes = 0\n\n    def peek(self, x):\n")
REBIND_SELF = {
    "match-capture": "        match np.zeros(1):\n            case self:\n                pass\n",
    "match-as": "        match np.zeros(1):\n            case _ as self:\n                pass\n",
    "match-sequence": "        match [np.zeros(1)]:\n            case [self]:\n                pass\n",
    "match-mapping": "        match {'a': np.zeros(1)}:\n            case {'a': self}:\n                pass\n",
    "match-class-keyword": "        match np.zeros(1):\n            case np.ndarray(real=self):\n                pass\n",
    "match-or": "        match np.zeros(1):\n            case [] | self:\n                pass\n",
    "match-guard-walrus": "        match 1:\n            case 1 if (self := np.zeros(1)) is not None:\n                pass\n",
    "except-as": ("        try:\n            raise ValueError(np.zeros(1))\n        except ValueError as self:\n"
                  "            pass\n"),
    "with-as": "        with np.zeros(1) as self:\n            pass\n",
    "for-target": "        for self in [np.zeros(1)]:\n            pass\n",
    "tuple-unpacking": "        self, y = np.zeros(1), 1\n",
    "annotated": "        self: int = np.zeros(1)\n",
    "deleted-then-bound": "        del self\n        self = np.zeros(1)\n",
    "walrus-in-comprehension": "        [0 for _ in [1] if (self := np.zeros(1)) is not None]\n",
    "inner-def-default": "        def self_(self=np.zeros(1)):\n            return self.ctypes\n        return self_()\n",
}


@pytest.mark.parametrize("body", list(REBIND_SELF.values()), ids=list(REBIND_SELF))
def test_a_rebound_self_is_no_trusted_receiver(body):
    stub = STUB1.read_text() + "\n\n"
    source = stub + _PRE + body + "        return self.ctypes\n"
    escapes = review.check(source, HW1).escapes
    first = len(stub.splitlines()) + 1
    assert escapes and all(v.line >= first for v in escapes), [v.text() for v in escapes]


# ----------------------------------------------------------------------------------------------
# Fair: correct code in unusual styles keeps full credit.

def test_identities_match_statements_and_vjp_keep_full_credit(tmp_path):
    """Sigmoid through logaddexp, ReLU as (z + |z|) / 2 with a Heaviside mask, Linear through addmm and
    einsum, SquaredError through vector_norm; `match` on needs_input_grad, a `vjp` in place of `backward`,
    `@once_differentiable`."""
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt7_fair_identities_and_match.py")
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


def test_an_mlp_folded_with_reduce_over_layer_tuples_keeps_full_credit(tmp_path):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt7_fair_mlp_reduce_over_layer_tuples.py")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


def test_fields_read_off_a_value_the_gate_cannot_type_are_refused_with_the_way_out(tmp_path):
    """A documented limit of the gate's language (docs/security.md, the static gate's language): a name the
    file sets on its own objects may be read only as self.<name> / ctx.<name> in its own class, since on a value
    the gate cannot type the same name may be a tensor's or array's own attribute (`.ctypes`, as REBIND_SELF
    above shows). The honest dataclass MLP is refused at each field read, and every line says how to write it
    instead (a tuple, list or dict per layer: the reduce-over-tuples file above keeps full credit)."""
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt7_limit_mlp_dataclass_layers.py")
    assert result.score == 0, report.details(result)
    for field in ("weight", "bias", "activate"):
        line = next((g for g in result.gate if f"`.{field}` is an attribute your file sets" in g), "")
        assert "self." + field in line and "tuple, list or dict" in line, result.gate


@pytest.mark.parametrize("seed", [3, 11])
def test_analytic_backwards_one_0_dim_element_at_a_time_keep_full_credit(tmp_path, seed):
    """Sigmoid through tanh(z[i] / 2) or exp(z[i]), ReLU with a Python 0/1 mask and z[i] ± |z[i]|, CrossEntropy's
    softmax built logit by logit: 0-dim copies of x[i] moved by some amount, never a pair straddling x[i]."""
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text() + "\n\n"
                    + (PARTS1 / "rt7_fair_scalar_element_loops.py").read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=seed, isolate=False)
    assert not any("numerically" in ln or "outside torch" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)
