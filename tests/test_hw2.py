"""hw2 grading end to end: the reference earns full marks, the stubs earn nothing with "not
implemented" everywhere, each typical mistake costs credit on its own task only, and the student
handout is current and leaks no solution."""

from __future__ import annotations

import json
import re

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


# (description, text in the reference, replacement, task that must lose credit, hint its feedback must give)
MUTATIONS = [
    ("count_parameters without biases", "n_in * n_out + n_out for", "n_in * n_out for", "count_parameters",
     "likely mistake: the biases are missing"),
    ("sign() that gives 0 at z = 0", "return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))",
     "return torch.sign(z)", "perceptron_predict", "likely mistake: torch.sign(0) is 0"),
    ("perceptron_predict with z > 0", "return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))",
     "return torch.where(z > 0, torch.ones_like(z), -torch.ones_like(z))", "perceptron_predict",
     "likely mistake: sign(0) is +1 (use z >= 0"),
    ("perceptron rule that ignores points on the boundary", "if y_i * (x_i @ w + b) <= 0:",
     "if y_i * (x_i @ w + b) < 0:", "perceptron_train", "likely mistake: no update when y·(w·x + b) = 0"),
    ("relu_interpolant using the slopes as output weights",
     "w2 = torch.cat([slopes[:1], slopes[1:] - slopes[:-1]])", "w2 = slopes.clone()", "relu_interpolant",
     "must add the change of slope there"),
    ("collapse_linear multiplying in the wrong order", "W, b = W_d @ W, W_d @ b", "W, b = W @ W_d, W_d @ b",
     "collapse_linear", "likely mistake: the product order: W = W_L ⋯ W_2 W_1, applied right to left"),
    ("MLP forward forgetting the last layer's bias",
     'x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))',
     'x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}") '
     'if d < self.num_layers else None)', "MLP", "likely mistake: the last layer's bias is missing"),
    ("MLP applying the activation on the output layer", "if d < self.num_layers:  #", "if True:  #", "MLP",
     "likely mistake: the activation was applied to the output layer too"),
    ("sgd_step with the wrong sign", "p.sub_(lr * p.grad)", "p.add_(lr * p.grad)", "sgd_step",
     "likely mistake: the sign"),
    ("sgd_step that keeps the gradients", "            p.grad = None\n", "", "sgd_step",
     "likely mistake: the gradients were not cleared"),
    ("train_epoch returning the last loss", "return total / max(count, 1)", "return batch_loss.item()",
     "train_epoch", "likely mistake: returned the last batch's loss"),
]


def _mutated(tmp_path, *pairs):
    source = REFERENCE.read_text()
    for old, new in pairs:
        assert source.count(old) == 1, f"mutation anchor {old!r} not found exactly once"
        source = source.replace(old, new)
    (tmp_path / HW2.submission).write_text(source)
    return tmp_path / HW2.submission


@pytest.mark.parametrize(("what", "old", "new", "task", "hint"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_typical_mistake_costs_credit_on_its_task_only(tmp_path, reference_result, what, old, new, task, hint):
    result = engine.grade(_mutated(tmp_path, (old, new)), HW2, seed=SEED, isolate=False)
    earned = _by_task(result)
    full = _by_task(reference_result)
    assert earned[task] < full[task] - 1e-9, f"{what}: {task} kept full credit"
    others = {t: earned[t] for t in earned if t != task and earned[t] < full[t] - 1e-9}
    assert others == {}, f"{what}: other tasks lost credit too"
    lines = [line for o in result.outcomes if o.task == task for line in o.lines]
    assert lines and not any("not implemented" in line for line in lines)
    # Every line names the function and the case, and the typical mistake is named.
    assert all(line.startswith(f"{task} [visible ") or line.startswith(f"{task} [hidden ") for line in lines), lines
    assert any(hint in line for line in lines), (hint, lines)


def test_perceptron_feedback_names_the_index_and_the_boundary(tmp_path):
    path = _mutated(tmp_path, MUTATIONS[2][1:3])
    result = engine.grade(path, HW2, visible_only=True, isolate=False)
    lines = [line for o in result.outcomes if o.task == "perceptron_predict" for line in o.lines]
    assert any(re.search(r"^perceptron_predict \[visible [^]]*\]: prediction\[\d+\] expected \+1, got -1 "
                         r"where w·x \+ b = 0 exactly", line) for line in lines), lines
    assert not any("relative error" in line for line in lines)


# Values a hidden-case line must never show: "expected 0.5", "got -1", "expected +1", "short by ... = 1158".
VALUE = re.compile(r"(expected|got)\s*[+-]?\d|short by [^,]*= \d")


def test_hidden_feedback_never_shows_expected_values(tmp_path):
    """All the typical mistakes at once (each on its own task), graded on the hidden cases only."""
    skip = {"sign() that gives 0 at z = 0"}  # shares its anchor with z > 0
    path = _mutated(tmp_path, *[(old, new) for what, old, new, _, _ in MUTATIONS if what not in skip])
    module = engine.scoring_module(HW2)
    cases = {task: [c for c in tc if not c["visible"] and c.get("mode") != "spiral"]
             for task, tc in module.make_cases(HW2, SEED, False).items()}
    results = engine.run_in_process(path, HW2, cases)
    failing = set()
    for task in HW2.tasks:
        for o in module.score_task(HW2, task, cases[task.name], results[task.name], None):
            for line in o.lines:
                failing.add(task.name)
                assert line.startswith(f"{task.name} [hidden "), line
                assert not VALUE.search(line.split("]: ", 1)[1]), line
                assert "relative error" not in line or task.name not in INTEGER_TASKS, line
    assert failing == {m[3] for m in MUTATIONS}


INTEGER_TASKS = {"count_parameters", "perceptron_predict"}  # integer / ±1 outputs: no relative errors


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
