"""An eighth red-team pass (issue 21's "done when"), by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt8_*.py) are appended to the correct base, so their classes replace the
base's; the hw2 parts (tests/submissions/hw2/rt8_*.py) to hw2's correct base, or to the untouched stubs. Each
hostile file asserts the credit it must not earn; each fair file (rt8_fair_*.py) is correct code in an
unusual legitimate style and asserts full credit. The ones the grader gets wrong today are strict xfails
whose reason says where the hole is: remove the mark when fixed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from test_redteam_fifth_pass import (  # the fifth pass's paths, markers and way to grade a planted part
    GATED,
    HW1,
    HW2,
    PARTS1,
    PARTS2,
    STUB2,
    _earned,
    _grade,
    _open,
)

from course_nn.grading import engine, report

# ----------------------------------------------------------------------------------------------
# hw2: the MLP's data flow. Each call's gain is measured through that call's own backward, run by autograd
# itself exactly once with the real upstream gradient (so the per-call run count is 1, the result is reached,
# the call count is right); the given Functions' backward results are thrown away (their inputs are detached,
# a tap of the file's own keeps what reaches the bias or input and sends nothing on). Autograd runs ready nodes
# newest first, so the file's own _Gain, created before the tap and the call, runs after both.

DECOY = PARTS2 / "rt8_mlp_decoy_gain_tapped_in_order.py"


@pytest.mark.parametrize("base", [pytest.param(PARTS2 / "correct_base.py", id="correct-base"),
                                  pytest.param(STUB2, id="untouched-stub")])
def test_an_mlp_whose_gradients_bypass_the_given_backward_earns_nothing(tmp_path, base):
    """Held since each gradient a given call's backward sends carries per-entry factors of its own
    (given_hw2.fields): the gain the tap measured on the bias scales the primitives' gradients, but no
    weight or input gradient computed beside the call has its fields."""
    result = _grade(tmp_path, HW2, base, DECOY)
    earned = _earned(result)
    assert (earned[("MLP", "main")], earned[("MLP", "edge")]) == (0, 0), report.details(result)
    main = next(o for o in result.outcomes if o.task == "MLP" and o.category == "main")
    assert any("d loss / d weight" in line for line in main.lines), main.lines  # forward was right; gradients not


# Fair: a throw-away call is excused before the layers as after them (fair_mlp_logs_probabilities.py).
def test_a_detached_dashboard_call_before_the_layers_keeps_full_credit(tmp_path):
    """Held since the parent, when the numbers miss, tries once more with the marks of the calls whose
    backward never ran passed over (flow.throwaways, given_hw2._kept)."""
    result = _grade(tmp_path, HW2, PARTS2 / "correct_base.py", PARTS2 / "rt8_fair_mlp_input_dashboard_first.py")
    assert result.score == pytest.approx(HW2.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# hw1: numerical differentiation one element at a time, in new forms: each central pair in one two-element
# tensor x[i] + (h, -h), or the lower side through a mirror (σ(x - h) = 1 - σ(h - x): the numbers x + h and
# h - x). child/numdiff_scalar.py keeps every value of results of up to 8 values and pairs them and their
# negatives. Eighth-order stencils pass the accuracy and precision cases, so the watch is what costs them.

_TRANSFORMED_HOLE = ("child/numdiff_watch.py looks for nudged *input values* (x ± h in any layout, as numbers or "
                     "their negatives): Sigmoid's eighth-order stencil on log σ written as log1p(exp(-|z|)·c) for "
                     "constants c = exp(±kh) never forms z ± kh anywhere (only exp(-|z|), its products with "
                     "constants, log1p), the loop runs over the stencil's terms, not the elements, and the stencil "
                     "passes the accuracy and precision cases: full credit (a residual: docs/security.md)")

NUMERICAL = [
    pytest.param("rt8_numdiff_pair_tensors", "Sigmoid", id="sigmoid-stencil-in-pair-tensors"),
    pytest.param("rt8_numdiff_pair_tensors", "ReLU", id="relu-relative-step-in-pair-tensors"),
    pytest.param("rt8_numdiff_pair_tensors", "SquaredError", id="squared-error-pair-tensors"),
    pytest.param("rt8_numdiff_pair_tensors", "CrossEntropy", id="cross-entropy-stencil-in-pair-tensors"),
    pytest.param("rt8_numdiff_mirrored_scalars", "Sigmoid", id="sigmoid-mirrored-stencil"),
    pytest.param("rt8_numdiff_mirrored_scalars", "ReLU", id="relu-mirrored-relative-step"),
    pytest.param("rt8_numdiff_transformed_stencil", "Sigmoid", id="sigmoid-stencil-in-a-transformed-space",
                 marks=_open(_TRANSFORMED_HOLE)),
]


@pytest.mark.parametrize(("name", "task"), NUMERICAL)
def test_a_numerical_derivative_earns_no_backward_credit(tmp_path, name, task):
    part = PARTS1 / f"{name}.py"
    assert f"class {task}(" in part.read_text()
    result = _grade(tmp_path, HW1, PARTS1 / "correct_base.py", part)
    earned = _earned(result)
    assert earned[(task, "forward")] == 1, report.details(result)  # forward did nothing wrong
    assert {c: earned[(task, c)] for c in GATED} == {c: 0 for c in GATED}, report.details(result)


@pytest.mark.parametrize("seed", [3, 11])
def test_analytic_backwards_with_symmetric_pairs_keep_full_credit(tmp_path, seed):
    """σ(z)·σ(-z) from the pair (z, -z), a (sign + 1) / 2 mask, SquaredError from each pair's half-sum and
    half-difference (p + t and p - t do average to p), a softmax row by row: all honest."""
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text() + "\n\n"
                    + (PARTS1 / "rt8_fair_symmetric_pairs.py").read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=seed, isolate=False)
    assert not any("numerically" in ln or "outside torch" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


@pytest.mark.parametrize("seed", [3, 11])
def test_analytic_backwards_with_pair_tensors_and_mirrors_keep_full_credit(tmp_path, seed):
    """What the scalar pairing keeps and negates, written honestly: σ(z)·σ(-z) from the pair (z, -z), a ReLU
    mask from (z + |z|, |z| - z), SquaredError from (p + t, p - t) and t - p, softmax rows through top - row and
    lse - row, two-class rows as σ(±(z0 - z1)). Without the half-step rule (not an input's magnitude: p ± t,
    z ± |z|) ReLU and SquaredError lose their credit here."""
    path = tmp_path / HW1.submission
    path.write_text((PARTS1 / "correct_base.py").read_text() + "\n\n"
                    + (PARTS1 / "rt8_fair_mirrored_pair_loops.py").read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.grade(path, HW1, seed=seed, isolate=False)
    assert not any("numerically" in ln or "outside torch" in ln for o in result.outcomes for ln in o.lines)
    assert result.score == pytest.approx(HW1.total_points), report.details(result)


# ----------------------------------------------------------------------------------------------
# grade-batch: one hostile student beside classmates (namespace and container mode, --jobs 2, zygote). Mallory
# prints about 100 MB and raises with Markdown and HTML in her message; two classmates sit in folders whose names
# are Markdown, HTML and a fake score line over three lines, and 120 two-byte letters with a right-to-left
# override. Every classmate scores what the correct base scores alone; results.json and the summary keep their
# structure (all held).

_SHOUT = "</details><script>alert(1)</script>\\n# Score: 100/100\\n| x |\\n```\\n[click](javascript:alert(1))"
MALLORY = f'''

_SHOUT = "{_SHOUT}"


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        for _ in range(1000):
            print(_SHOUT * 1000)
        raise ValueError(_SHOUT)

    @staticmethod
    def backward(ctx, grad_output):
        raise ValueError(_SHOUT)
'''
ODD = ["x` <img src=x onerror=alert(1)> [l](http:∕∕e) # H\n| a | b |\n**9999 ∕ 100**", "é" * 120 + "\u202e" + "z" * 10]


@pytest.mark.sandbox
@pytest.mark.parametrize("contained", ["namespace", "container"], indirect=True)
def test_a_flooding_student_with_markdown_leaves_odd_named_classmates_as_alone(tmp_path, contained):
    render = pytest.importorskip("markdown_it").MarkdownIt("commonmark").enable(["table"]).render
    base = (PARTS1 / "correct_base.py").read_text()
    subs = tmp_path / "subs"
    for name in ["alice", *ODD]:
        (subs / name).mkdir(parents=True)
        (subs / name / "functions.py").write_text(base)
    (subs / "mallory").mkdir()
    (subs / "mallory" / "functions.py").write_text(base + MALLORY)
    proc = subprocess.run([sys.executable, "-m", "course_nn", "grade-batch", str(subs), "-a", "hw1", "--jobs", "2",
                           "--csv", str(tmp_path / "grades.csv"), "--quiet"], capture_output=True, text=True,
                          env=dict(os.environ), timeout=900)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    assert len(proc.stdout) + len(proc.stderr) < 100_000  # her flood did not reach the grader's own output
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8"))}
    for name in ["alice", *ODD]:
        assert rows[name]["status"] == "ok" and float(rows[name]["score"]) == pytest.approx(100), rows[name]
    assert float(rows["mallory"]["score"]) == pytest.approx(100 - 10)  # Sigmoid alone
    summary = render((tmp_path / "grades_summary.md").read_text(encoding="utf-8"))
    assert summary.count("<h1>") == 1 and summary.count("<h2>") == 3 and summary.count("<table>") == 2, summary
    assert not re.search(r"<(script|a|img|pre|details|h3|blockquote)\b", summary), summary
    data = json.loads((tmp_path / "grades_results" / "mallory" / "results.json").read_text())
    assert len(json.dumps(data)) < 200_000
    top = render(data["output"])
    assert top.count("<pre>") == 1 and not re.search(r"<(script|a|img|details|h\d)\b", top), top
    for test in data["tests"]:
        if test.get("output_format") == "md":
            html = render(test["output"])
            assert not re.search(r"<(script|a|img|pre|details|h\d|table)\b", html), (test["name"], html)
