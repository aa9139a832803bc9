"""Grading with the static gate: forgers earn nothing, every offending line is named, honest styles
keep full credit.

The forgers reach the runner's frame three ways (``sys._getframe``, a running generator's
``gi_frame``, an exception's ``__traceback__``), take torch's built-ins and autograd by *computed*
names through the frame's builtins (so no shortcut is visible in the source), and write every
result themselves. With the gate switched off they earn full credit — the proof that these tests
can fail — and with it they earn nothing, appended to the untouched stubs as to the reference.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.cli import main as cli_main
from course_nn.grading import engine, report, review

ROOT = Path(__file__).resolve().parents[1]
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
SOLUTION2 = ROOT / "solutions" / "hw2_mlp" / "mlp.py"
STUB = ROOT / "assignments" / "hw1_autograd" / "functions.py"
STUB2 = ROOT / "assignments" / "hw2_mlp" / "mlp.py"

# How each forger gets a frame of the process that runs it.
FRAMES = {
    "sys._getframe": "import sys\n_frame = sys._getframe()\n",
    "generator frame": ("def _walk():\n    yield _me.gi_frame.f_back\n_me = _walk()\n_frame = next(_me)\n"),
    "traceback frame": ("try:\n    raise ValueError\nexcept ValueError as _e:\n    _frame = _e.__traceback__.tb_frame\n"),
}
# From a frame: the runner's locals, torch by name, Functions that are torch's own, forged frames.
FORGE = '''
while _frame is not None and "proto" not in _frame.f_locals:
    _frame = _frame.f_back
if _frame is not None:
    _loc, _get = _frame.f_locals, _frame.f_builtins["get" + "attr"]
    _torch = _frame.f_globals["sys"].modules["torch"]
    _auto = _get(_torch, "auto" + "grad")
    _fns = {"Square": lambda x: x * x, "QuadraticForm": lambda v, A: v @ (A @ v),
            "Sigmoid": _get(_torch, "sig" + "moid"), "ReLU": _get(_torch, "re" + "lu"),
            "Linear": _get(_torch.nn.functional, "lin" + "ear"),
            "SquaredError": _get(_torch.nn.functional, "mse" + "_loss"),
            "CrossEntropy": _get(_torch.nn.functional, "cross" + "_entropy")}

    def _make(fn):
        class _Forged(_auto.Function):
            @staticmethod
            def forward(ctx, *xs):
                ctx.save_for_backward(*[x for x in xs if x is not None])
                ctx.shapes = [x is not None for x in xs]
                return fn(*xs)

            @staticmethod
            def backward(ctx, g):
                saved = list(ctx.saved_tensors)
                xs = [saved.pop(0).detach().requires_grad_(x.is_floating_point()) if present else None
                      for present, x in zip(ctx.shapes, list(ctx.saved_tensors) + [None] * 3)]
                live = [x for x in xs if x is not None and x.requires_grad]
                with _get(_torch, "enable" + "_grad")():
                    grads = _get(_auto, "gr" + "ad")(fn(*xs), live, g, allow_unused=True)
                it = iter(grads)
                return tuple(next(it) if x is not None and x.requires_grad else None for x in xs)
        return _Forged

    _this = _frame.f_globals["sys"].modules[_loc["job"]["module_name"]]
    for _name, _fn in _fns.items():
        _get(_this, "__dict__")[_name] = _make(_fn)
    _framing, _probe, _proto, _job = _loc["framing"], _loc["probe"], _loc["proto"], _loc["job"]
    _framing.write_frame(_proto, {"event": "import", "ok": True, "error": ""})
    for _i, (_task, _visible) in enumerate(_job["units"]):
        _framing.write_frame(_proto, {"event": "start", "unit": _i})
        _results = {}
        for _case in _job["cases"]:
            if _case["task"] == _task and bool(_case.get("visible")) == _visible:
                _r = _probe.run_case(_this, _case, _loc["submission"])
                for _part in _r.values():
                    if isinstance(_part, dict):
                        _part.pop("ops", None)
                        _part.pop("ops_forward", None)
                _results[_case["id"]] = _r
        _framing.write_frame(_proto, {"event": "result", "unit": _i, "results": _results})
    _framing.write_frame(_proto, {"event": "done"})
    _frame.f_globals["os"]._exit(0)
'''


def forger(route: str) -> str:
    return FRAMES[route] + FORGE


def with_code(tmp_path: Path, base: Path, extra: str, name: str = "functions.py") -> Path:
    path = tmp_path / name
    path.write_text(base.read_text() + "\n\n" + textwrap.dedent(extra) + "\n")
    return path


@pytest.fixture
def gate_off(monkeypatch):
    """The grader with its static gate switched off: what a forger earns where nothing checks source."""
    monkeypatch.setattr(engine.review, "check", lambda source, assignment: review.Verdict())


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_forgers_work_when_the_gate_is_off(tmp_path, gate_off):
    result = engine.grade(with_code(tmp_path, STUB, forger("generator frame")), HW1, seed=3)
    assert result.score > 0.9 * HW1.total_points, report.table(result)


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("route", sorted(FRAMES))
def test_the_untouched_stub_with_a_forger_appended_scores_zero(tmp_path, route):
    result = engine.grade(with_code(tmp_path, STUB, forger(route)), HW1, seed=3)
    assert result.score == 0, report.table(result)
    compliance = [o for o in result.outcomes if o.category == "compliance"]
    assert all("breaks a rule of graded code" in o.lines[0] for o in compliance)


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_reference_with_a_forger_appended_scores_zero_and_names_every_line(tmp_path):
    result = engine.grade(with_code(tmp_path, SOLUTION, forger("traceback frame")), HW1, seed=5)
    assert result.score == 0
    verdict = review.check((tmp_path / "functions.py").read_text(), HW1)
    texts = [v.text() for v in verdict.escapes]
    assert len(texts) >= 3
    for o in result.outcomes:  # every row it zeroes names every offending line
        shown = "\n".join(o.lines)
        assert all(t in shown for t in texts), o


@pytest.mark.parametrize("route", sorted(FRAMES))
def test_every_forger_route_is_refused_statically(route):
    for base, a in ((STUB, HW1), (STUB2, HW2), (SOLUTION, HW1), (SOLUTION2, HW2)):
        verdict = review.check(base.read_text() + "\n" + forger(route), a)
        assert verdict.escapes, (route, base)


@pytest.mark.sandbox
@pytest.mark.slow
def test_hw2_stub_and_reference_with_escapes_appended_score_zero(tmp_path):
    escape = forger("sys._getframe").replace("_probe.run_case", "_probe.run_case")
    for base in (STUB2, SOLUTION2):
        result = engine.grade(with_code(tmp_path, base, escape, "mlp.py"), HW2, seed=4)
        assert result.score == 0, report.table(result)


def test_two_refused_imports_are_both_named_in_every_zeroed_row(tmp_path):
    path = with_code(tmp_path, SOLUTION, "import os\nimport sys\n")
    result = engine.grade(path, HW1, isolate=False, visible_only=True)
    assert result.score == 0
    for o in result.outcomes:
        shown = "\n".join(o.lines)
        assert "`import os`" in shown and "`import sys`" in shown, o
    assert any("1 more line" in o.lines[0] for o in result.outcomes)


def test_course_nn_check_lists_every_offending_line(tmp_path, capsys):
    path = with_code(tmp_path, SOLUTION, "import os\n_x = torch.nn.functional.gelu\n_y = torch.sigmoid(torch.ones(1))\n")
    code = cli_main(["check", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    head = out.split("function ")[0]  # the list comes before the table
    assert "`import os`" in head and "torch.nn.functional.gelu" in head and "torch.sigmoid" in head
    assert "3 line(s)" in head


def test_a_shortcut_costs_only_its_function_with_every_line_named(tmp_path):
    path = with_code(tmp_path, SOLUTION, """
        class Sigmoid(Function):
            @staticmethod
            def forward(ctx, z):
                out = torch.sigmoid(z)
                ctx.save_for_backward(out)
                return out

            @staticmethod
            def backward(ctx, g):
                (out,) = ctx.saved_tensors
                return g * torch.special.expit(out) * 0 + g * out * (1 - out)
    """)
    result = engine.grade(path, HW1, isolate=False, visible_only=True)
    sig = {o.category: o for o in result.outcomes if o.task == "Sigmoid"}
    assert sig["compliance"].fraction == 0 and sig["forward"].fraction == 0
    shown = "\n".join(sig["compliance"].lines)
    assert "torch.sigmoid" in shown and "torch.special.expit" in shown
    assert all(o.passed for o in result.outcomes if o.task != "Sigmoid"), report.table(result)


@pytest.mark.sandbox
@pytest.mark.slow
def test_new_correct_styles_keep_full_credit_in_the_sandbox(tmp_path):
    hw1 = ROOT / "tests" / "submissions" / "hw1" / "fair_numpy_and_stdlib.py"
    result = engine.grade(hw1, HW1, seed=9)
    assert result.score == pytest.approx(HW1.total_points), report.table(result)
    hw2 = tmp_path / "mlp.py"
    hw2.write_text(SOLUTION2.read_text() + "\n\n" +
                   (ROOT / "tests" / "submissions" / "hw2" / "fair_stdlib_and_activation_by_name.py").read_text())
    result = engine.grade(hw2, HW2, seed=9)
    assert result.score == pytest.approx(HW2.total_points), report.table(result)
