"""hw2 task 11, feature_map: graded by the parent's own logistic regression on the features the
submission returns for fresh circles points. The labels never reach the child; X itself earns
nothing; partial credit below the 99% bar; contract slips cost the contract only."""

from __future__ import annotations

import pytest

from course_nn import paths, registry
from course_nn.grading import cases as case_lib
from course_nn.grading import engine

HW2 = registry.get("hw2")
TASK = HW2.task("feature_map")
REFERENCE = paths.repo_root() / "solutions" / HW2.folder / HW2.submission
SEED = 4242


def grade(tmp_path, body: str | None, seed: int = SEED, visible_only: bool = False):
    """feature_map's Outcomes per category for the reference file with ``body`` appended."""
    path = tmp_path / "mlp.py"
    path.write_text(REFERENCE.read_text() + ("\n\n" + body if body else ""))
    module = engine.scoring_module(HW2)
    issued = case_lib.issue({"feature_map": module.make_cases(HW2, seed, visible_only)["feature_map"]})
    cases = issued["feature_map"]
    results = engine.run_in_process(path, HW2, {"feature_map": cases})["feature_map"]
    return {o.category: o for o in module.score_task(HW2, TASK, cases, results, None)}


def test_the_reference_earns_everything(tmp_path):
    outcomes = grade(tmp_path, None)
    assert {k: o.fraction for k, o in outcomes.items()} == {"main": 1.0, "edge": 1.0, "compliance": 1.0}


def test_the_child_never_sees_the_labels_or_which_points_train():
    module = engine.scoring_module(HW2)
    for case in case_lib.issue({"feature_map": module.make_cases(HW2, SEED, False)["feature_map"]})["feature_map"]:
        sent = case.sent()
        assert set(sent) == {"X", "subset", "single", "id", "task", "kind", "label", "visible"}, sorted(sent)
        assert "_y" in case and "_train" in case  # the parent keeps them


IDENTITY = "def feature_map(X):\n    return X.clone()\n"
DOUBLED = "def feature_map(X):\n    return torch.cat([X, 3 * X - 1], dim=1)\n"  # still a line in the plane


@pytest.mark.parametrize("body", [IDENTITY, DOUBLED], ids=["X", "linear-map-of-X"])
def test_the_raw_inputs_or_a_linear_map_of_them_earn_nothing(tmp_path, body):
    outcomes = grade(tmp_path, body)
    assert outcomes["main"].fraction == 0 and outcomes["edge"].fraction == 0
    # the shape and the contract are right, but a map that earns nothing earns no contract credit either
    # (issue 21: nothing appended to the untouched stub earns credit without doing the work)
    assert outcomes["compliance"].fraction == 0
    assert "no random case is right yet" in outcomes["compliance"].lines[0]
    line = outcomes["main"].lines[0]
    assert line.startswith("feature_map [visible fresh circles #1]: a logistic regression trained on your features")
    assert "99% needed" in line and "(credit 0% of this case)" in line
    assert "likely mistake: these features are the inputs themselves" in line


def test_a_map_that_only_helps_earns_partial_credit(tmp_path):
    # (x1 + x2)² grows towards two of the ring's sides only: better than a line, short of 99%
    outcomes = grade(tmp_path, "def feature_map(X):\n    return torch.cat([X, X.sum(1, keepdim=True) ** 2], 1)\n")
    assert 0 < outcomes["main"].fraction < 1
    assert outcomes["compliance"].fraction == 1.0
    assert any("(credit " in line and "(credit 0%" not in line for line in outcomes["main"].lines)


@pytest.mark.parametrize(("body", "words"), [
    ("def feature_map(X):\n    return (X * X).sum(1)\n", "returned shape (1000,); return (N, k)"),
    ("def feature_map(X):\n    r = (X * X).sum(1, keepdim=True)\n    return (r - r.mean()) / (r.std(correction=0) + 1)\n",
     "the features of a point changed with the other points in the batch"),
    ("def feature_map(X):\n    X *= 2\n    return (X * X).sum(1, keepdim=True)\n", "modified its input `X` in place"),
])
def test_a_contract_slip_costs_the_contract_only(tmp_path, body, words):
    outcomes = grade(tmp_path, body)
    assert outcomes["main"].fraction == 1.0 and outcomes["edge"].fraction == 1.0
    assert outcomes["compliance"].fraction == 0
    assert any(words in line for line in outcomes["compliance"].lines), outcomes["compliance"].lines


@pytest.mark.parametrize(("body", "words"), [
    ("def feature_map(X):\n    return torch.randn(X.shape[0], 64)\n", "returned 64 features; at most 32"),
    ("def feature_map(X):\n    return X / 0.0\n", "some features are NaN or infinite"),
    ("def feature_map(X):\n    return 'x1**2 + x2**2'\n", "expected a tensor"),
    ("def feature_map(X):\n    return X[:10]\n", "returned shape (10, 2) for 1000 points"),
])
def test_unusable_features_earn_nothing(tmp_path, body, words):
    outcomes = grade(tmp_path, body)
    assert outcomes["main"].fraction == 0 and outcomes["edge"].fraction == 0
    assert any(words in line for line in outcomes["main"].lines), outcomes["main"].lines


def test_hidden_feedback_shows_no_raw_accuracy(tmp_path):
    outcomes = grade(tmp_path, IDENTITY)
    hidden = [line for o in outcomes.values() for line in o.lines if "[hidden " in line]
    assert hidden and all("hidden case: values not shown" in line for line in hidden)
    assert not any("on the raw inputs" in line for line in hidden)


def test_the_autograder_zip_grades_it(tmp_path):
    import zipfile

    from course_nn import cli

    out = tmp_path / "hw2.zip"
    assert cli.main(["autograder", "build", "-a", "hw2", "--out", str(out)]) == 0
    names = zipfile.ZipFile(out).namelist()
    assert "package/course_nn/grading/hw2/features.py" in names
    assert "package/course_nn/grading/child/probe_hw2.py" in names
    registry_text = zipfile.ZipFile(out).read("package/course_nn/registry/hw2.py").decode()
    assert '"feature_map"' in registry_text
