"""Defence in depth in the parent: a child's results are checked against a schema before scoring,
and an exception while scoring child data fails that task with a plain line, never the grading.

The child runs student code, so its results are an adversary's data once the static gate has been
stepped around. Two layers: every field of every result conforms to the probe's schema (a result
that does not fails its case), and the engine turns any exception in a scorer into a failed task.
The hostile tests forge results in every field (crafted dicts handed to the scorers, and end to
end: a submission that writes its own frames, graded with the gate switched off in the test).
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import torch

from course_nn import registry
from course_nn.grading import cases as case_lib
from course_nn.grading import engine, hw1, report, review, schema, status
from course_nn.grading.child import probe_hw1, probe_hw2, runner

ROOT = Path(__file__).resolve().parents[1]
HW1, HW2 = registry.get("hw1"), registry.get("hw2")
SOLUTIONS = {"hw1": ROOT / "solutions" / "hw1_autograd" / "functions.py", "hw2": ROOT / "solutions" / "hw2_mlp" / "mlp.py"}
# Values of odd shapes and types, each put in place of every field of an honest result.
ODD = [None, 7, -1, True, 2.5, float("nan"), "x" * 30, "", [], [[1, 2]], [["aten.mul"]], {"a": 1}, {3: "x"},
       (1, "a"), torch.zeros(0), torch.zeros(2, 3, 4), torch.zeros((), dtype=torch.int64), torch.ones(5, dtype=torch.bool)]


def honest_results(assignment, seed: int = 3):
    """The reference's results for every task's visible and hidden cases, run in this process."""
    plugin = engine.scoring_module(assignment)
    cases = plugin.make_cases(assignment, seed, False)
    plugin.precompute(cases)
    module = runner.load_submission(str(SOLUTIONS[assignment.name]), f"_guard_{assignment.name}")
    probe = probe_hw1 if assignment is HW1 else probe_hw2
    return cases, {t: [probe.run_case(module, c, "x.py") for c in cs] for t, cs in cases.items()}


def paths(value, prefix=()):
    """Every place in a nested result a forger could put something else."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:3]):
            yield from paths(v, (*prefix, i))


def replaced(value, path, new):
    if not path:
        return new
    out = copy.copy(value) if not isinstance(value, tuple) else list(value)
    out[path[0]] = replaced(value[path[0]], path[1:], new)
    return out


@pytest.fixture(scope="module", params=["hw1", "hw2"])
def honest(request):
    assignment = registry.get(request.param)
    return (assignment, *honest_results(assignment))


def test_forged_fields_fail_their_case_cleanly_and_never_raise(honest):
    assignment, cases, results = honest
    plugin = engine.scoring_module(assignment)
    tried = 0
    for task in assignment.tasks:
        # Two cases of each task (a spiral is scored by training: left to the end-to-end test), each
        # scored alone so that the forged field is the only thing that differs from an honest run.
        picks = [i for i, c in enumerate(cases[task.name]) if c.get("mode") != "spiral"]
        for i in (picks[0], picks[-1]):
            for path in list(paths(results[task.name][i]))[:30]:
                for odd in ODD[:: 1 if len(path) < 2 else 4]:
                    forged = replaced(results[task.name][i], path, odd)
                    outcomes = plugin.score_task(assignment, task, [cases[task.name][i]], [forged], None)
                    tried += 1
                    assert [o.category for o in outcomes] == [c.key for c in assignment.categories]
                    assert all(0.0 <= o.fraction <= 1.0 for o in outcomes)
                    assert all(isinstance(line, str) and "Traceback" not in line for o in outcomes for line in o.lines)
    assert tried > 200


def test_an_op_list_of_the_wrong_shape_fails_its_case_with_a_plain_line_and_a_note():
    cases, results = honest_results(HW1)
    task = HW1.task("Sigmoid")
    forged = list(results["Sigmoid"])
    k = next(i for i, c in enumerate(cases["Sigmoid"]) if c["kind"] == "main")
    forged[k] = copy.deepcopy(forged[k])
    forged[k]["direct"]["ops"] = [["aten.sigmoid"]]  # crashed compliance scoring before (unhashable list)
    outcomes = {o.category: o for o in hw1.score_task(HW1, task, cases["Sigmoid"], forged, None)}
    assert outcomes["forward"].fraction < 1 and outcomes["backward"].fraction < 1
    assert any(case_lib.UNREADABLE in line for line in outcomes["forward"].lines)
    assert any("direct.ops[0]" in note for note in outcomes["compliance"].review)  # the staff see which field
    assert not any("direct.ops" in line for o in outcomes.values() for line in o.lines)  # no grader names shown


def test_the_schema_refuses_what_the_probe_never_writes():
    case = {"kind": "main", "inputs": [torch.ones(2, 3)], "task": "Square"}
    ok = {"direct": {"out": torch.ones(2, 3), "out_type": "Tensor", "grads": [torch.ones(2, 3)], "n_grads": 1,
                     "error_forward": "", "error_backward": "", "exc_forward": "", "exc_backward": "",
                     "not_implemented": False, "ctx_tensor_attrs": [], "saved_count": 1, "ops": ["aten.mul"],
                     "changed_backward": [False]},
          "apply": {"error": "", "graph_on_ctx": [], "ctx_tensor_attrs": [], "version_error": True}}
    shape = hw1.schema.result_schema(case)
    assert schema.why(shape, ok) is None
    for path, bad, said in [(("direct", "n_grads"), 2, "n_grads is 2"), (("direct", "n_grads"), True, "integer"),
                            (("direct", "changed_backward"), [], "0 items where 1 belong"),
                            (("direct", "changed_backward"), [torch.ones(1)], "True or False"),
                            (("direct", "grads", 0), "g", "tensor belongs"), (("apply", "version_error"), 1, "True or False"),
                            (("direct", "surprise"), 1, "unexpected field")]:
        forged = copy.deepcopy(ok)
        target = forged
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        assert said in (schema.why(shape, forged) or ""), (path, schema.why(shape, forged))


def test_a_scorer_that_raises_fails_that_task_only(monkeypatch, tmp_path):
    real = hw1.score_task

    def exploding(assignment, task, *args):
        if task.name == "Linear":
            raise IndexError("forged data the scorer did not expect")
        return real(assignment, task, *args)

    monkeypatch.setattr(hw1, "score_task", exploding)
    result = engine.grade(SOLUTIONS["hw1"], HW1, isolate=False, seed=2)
    by_task = result.points_by_task()
    assert by_task["Linear"][0] == 0 and by_task["Square"][0] == pytest.approx(HW1.task("Square").points)
    linear = [o for o in result.outcomes if o.task == "Linear"]
    assert all("could not score Linear" in o.lines[0] for o in linear)
    assert any("IndexError" in n and "forged data" in n for n in result.notes)  # the staff see the exception
    report.write_results(result, tmp_path / "results.json")
    assert (tmp_path / "results.json").is_file()


# ----------------------------------------------------------------------------------------------
# End to end: a submission that answers for the probes through the runner's own channel. The gate
# refuses such a file; here the gate is switched off (test only) to see that scoring holds alone.

FORGER = textwrap.dedent('''
    import os, sys
    import torch
    frame = sys._getframe()
    while frame is not None and "proto" not in frame.f_locals:
        frame = frame.f_back
    proto, job = frame.f_locals["proto"], frame.f_locals["job"]
    framing = sys.modules["framing"]
    ODD = [
        {"direct": {"ops": [["aten.mul"]], "out": [1, 2]}, "apply": {}},
        {"direct": "not a table", "apply": 3},
        {"gradcheck": {"plus": torch.ones(3), "minus": torch.ones(2, 2), "jac": [[1]], "error": 0, "exc": None}},
        {"direct": {"out": torch.ones(2, 2), "out_type": "Tensor", "grads": [torch.ones(5, 5, 5)] * 9, "n_grads": 1,
                    "error_forward": "", "error_backward": "", "exc_forward": "", "exc_backward": "",
                    "not_implemented": False, "ctx_tensor_attrs": [["x"]], "saved_count": -3}, "apply": {"error": 5}},
        {"error": ["not", "text"], "stage": "probe"},
        {"missing": "yes", "error": 7},
        {"value": {"nested": [torch.ones(1)] * 3}, "value_type": 5, "inputs_after": "x", "calls": [1, 2],
         "loaded": "yes", "shapes": [[-1]], "weights": "none", "params": 3, "grads": {"a": 1}},
        [1, 2, 3],
        "a string",
    ]
    framing.write_frame(proto, {"event": "import", "ok": True, "error": ""})
    for index, (task, visible) in enumerate(job["units"]):
        framing.write_frame(proto, {"event": "start", "unit": index})
        answers = {c["id"]: ODD[c["id"] % len(ODD)] for c in job["cases"]
                   if c["task"] == task and bool(c.get("visible")) == visible}
        framing.write_frame(proto, {"event": "result", "unit": index, "results": answers})
    framing.write_frame(proto, {"event": "done"})
    os._exit(0)
''')


@pytest.fixture
def gate_off(monkeypatch):
    """The static gate passes anything (test only): scoring must hold on its own."""
    monkeypatch.setattr(review, "check", lambda source, assignment: review.Verdict())


@pytest.mark.sandbox
@pytest.mark.parametrize("hw", ["hw1", "hw2"])
def test_forged_frames_fail_every_task_cleanly_end_to_end(tmp_path, gate_off, hw):
    from course_nn.grading import cli_batch

    assignment = registry.get(hw)
    folder = tmp_path / "class" / "mallory"
    folder.mkdir(parents=True)
    (folder / assignment.submission).write_text(FORGER)
    result = engine.grade(folder / assignment.submission, assignment, seed=5)
    assert result.score == 0
    for o in result.outcomes:
        assert o.lines and all("Traceback" not in line for line in o.lines), (o.task, o.category, o.lines)
    assert any(case_lib.UNREADABLE in line for o in result.outcomes for line in o.lines)
    assert any("result refused" in r for o in result.outcomes for r in o.review)  # why, for the staff
    data = report.write_results(result, tmp_path / "results.json")
    assert (tmp_path / "results.json").is_file() and data["score"] == 0
    row = cli_batch._grade_student("mallory", str(folder), hw, 5, str(tmp_path / "mallory.json"), 30.0, 2 << 30,
                                   zygote=False)
    assert row["status"] != status.GRADER_ERROR and row["score"] == 0, row
    assert (tmp_path / "mallory.json").is_file()
