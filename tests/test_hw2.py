"""hw2 grading end to end: the reference earns full marks, the stubs earn nothing with "not
implemented" everywhere, each typical mistake costs credit on its own task only, and the student
handout is current and leaks no solution."""

from __future__ import annotations

import json

import pytest

from course_nn import paths, registry
from course_nn.grading import engine
from course_nn.handout import sync

HW2 = registry.get("hw2")
ROOT = paths.repo_root()
REFERENCE = ROOT / "solutions" / HW2.folder / HW2.submission
STUB = ROOT / "assignments" / HW2.folder / HW2.submission
SEED = 4242  # any seed: the tests must pass for hidden cases in general, not for one secret


def _by_task(result) -> dict[str, float]:
    """Points earned per task."""
    cats = {c.key: c for c in HW2.categories}
    earned: dict[str, float] = {}
    for o in result.outcomes:
        earned[o.task] = earned.get(o.task, 0.0) + HW2.max_score(HW2.task(o.task), cats[o.category]) * o.fraction
    return earned


@pytest.fixture(scope="module")
def reference_result():
    return engine.grade(REFERENCE, HW2, seed=SEED, isolate=True)


def test_reference_earns_full_marks_in_the_sandbox(reference_result):
    failing = [(o.task, o.category, o.lines) for o in reference_result.outcomes if not o.passed]
    assert failing == []
    assert reference_result.score == pytest.approx(HW2.total_points)
    assert len(reference_result.outcomes) == len(HW2.tasks) * len(HW2.categories)


def test_reference_passes_the_public_checks_in_process():
    result = engine.grade(REFERENCE, HW2, visible_only=True, isolate=False)
    assert [o for o in result.outcomes if not o.passed] == []


def test_stubs_score_zero_with_not_implemented_everywhere():
    result = engine.grade(STUB, HW2, seed=SEED, isolate=True)
    assert result.score == 0
    for o in result.outcomes:
        assert o.fraction == 0, (o.task, o.category)
        assert o.lines and o.lines[0].startswith("not implemented: "), (o.task, o.category, o.lines)
        task = HW2.task(o.task)
        assert f"(hw2 task {task.number})" in o.lines[0]


# (description, text in the reference, replacement, task that must lose credit)
MUTATIONS = [
    ("count_parameters without biases", "n_in * n_out + n_out for", "n_in * n_out for", "count_parameters"),
    ("sign() that gives 0 at z = 0", "return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))",
     "return torch.sign(z)", "perceptron_predict"),
    ("perceptron rule that ignores points on the boundary", "if y_i * (x_i @ w + b) <= 0:",
     "if y_i * (x_i @ w + b) < 0:", "perceptron_train"),
    ("relu_interpolant using the slopes as output weights",
     "w2 = torch.cat([slopes[:1], slopes[1:] - slopes[:-1]])", "w2 = slopes.clone()", "relu_interpolant"),
    ("collapse_linear multiplying in the wrong order", "W, b = W_d @ W, W_d @ b", "W, b = W @ W_d, W_d @ b",
     "collapse_linear"),
    ("MLP forward forgetting the last layer's bias",
     'x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))',
     'x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}") '
     'if d < self.num_layers else None)', "MLP"),
    ("MLP applying the activation on the output layer", "if d < self.num_layers:  #", "if True:  #", "MLP"),
    ("sgd_step with the wrong sign", "p.sub_(lr * p.grad)", "p.add_(lr * p.grad)", "sgd_step"),
    ("train_epoch returning the last loss", "return total / max(count, 1)", "return batch_loss.item()",
     "train_epoch"),
]


@pytest.mark.parametrize(("what", "old", "new", "task"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_typical_mistake_costs_credit_on_its_task_only(tmp_path, reference_result, what, old, new, task):
    source = REFERENCE.read_text()
    assert source.count(old) == 1, f"mutation anchor for {what!r} not found exactly once"
    (tmp_path / HW2.submission).write_text(source.replace(old, new))
    result = engine.grade(tmp_path / HW2.submission, HW2, seed=SEED, isolate=False)
    earned = _by_task(result)
    full = _by_task(reference_result)
    assert earned[task] < full[task] - 1e-9, f"{what}: {task} kept full credit"
    others = {t: earned[t] for t in earned if t != task and earned[t] < full[t] - 1e-9}
    assert others == {}, f"{what}: other tasks lost credit too"
    lines = [line for o in result.outcomes if o.task == task for line in o.lines]
    assert lines and not any("not implemented" in line for line in lines)


def test_hidden_feedback_never_shows_expected_values(tmp_path):
    source = REFERENCE.read_text().replace("p.sub_(lr * p.grad)", "p.add_(lr * p.grad)")
    (tmp_path / HW2.submission).write_text(source)
    cases = engine.scoring_module(HW2).make_cases(HW2, SEED, False)
    hidden = [c for c in cases["sgd_step"] if not c["visible"]]
    results = engine.run_in_process(tmp_path / HW2.submission, HW2, {"sgd_step": hidden})["sgd_step"]
    outcomes = engine.scoring_module(HW2).score_task(HW2, HW2.task("sgd_step"), hidden, results, None)
    text = " ".join(line for o in outcomes for line in o.lines)
    assert "hidden case: values not shown" in text
    assert "expected " not in text.split("likely mistake")[0]


def test_results_json_names_every_test_after_its_task(reference_result, tmp_path):
    from course_nn.grading import report

    out = tmp_path / "results.json"
    report.write_results(reference_result, out)
    tests = json.loads(out.read_text())["tests"]
    names = {t.name for t in HW2.tasks}
    assert all(t["name"].split(":")[0] in names for t in tests)
    assert sum(t["max_score"] for t in tests) == pytest.approx(HW2.total_points)


def test_handout_is_current_and_leaks_nothing(tmp_path):
    assert sync.check(ROOT, ["hw2"]) == ""
    files = sync.build(ROOT, "hw2", tmp_path / "out")
    assert "mlp.py" in files and "README.md" in files and "test_mlp.py" in files
    assert not any("hidden" in f for f in files)
    bundle = {f: (tmp_path / "out" / HW2.folder / f).read_bytes() for f in files}
    assert sync.leaks(bundle, ROOT / "solutions") == []
    # The check itself works: the reference would leak.
    assert sync.leaks({"mlp.py": REFERENCE.read_bytes()}, ROOT / "solutions")
