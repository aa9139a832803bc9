"""A nineteenth red-team pass, by someone who did not write the grader.

hw1 parts (tests/submissions/hw1/rt19_escape_*.py) are appended to the untouched stub with `_FORGE` (escapes), so
their classes stand beside the stub's; each earned the untouched stub 100 before its fix. Fair parts
(rt19_fair_*.py) are appended to the correct base and must keep full credit.
"""

from __future__ import annotations

import pytest
from test_redteam_eighteenth_pass import _refused
from test_redteam_fifteenth_pass import _escape_source, _snippet_source
from test_redteam_fifth_pass import HW1, PARTS1, _grade

from course_nn.grading import report, review

# ----------------------------------------------------------------------------------------------
# A name bound to an own class and to a namedtuple. Resolver.join types such a name as "one of these own classes"
# (a merged family), and a call of it as an instance of that family, on which a nested class of the class
# statement is read as that class wherever nothing else of the family binds the name. A namedtuple family
# (`Classes.tuple_families`) has no class statement, so its fields -- instance attributes holding whatever the
# caller passed -- bound nothing the check saw: `_C(torch.zeros(2).numpy).numpy()` was typed as an instance of
# the nested class `numpy` while it is the tensor's ndarray, whose `.ctypes` chain reached sys. Fixed in
# classes.py: a namedtuple family counts as binding every name (its fields may be renamed, `rename=True`).

MERGED = "rt19_escape_namedtuple_over_class_name.py"


def test_a_name_bound_to_a_class_and_a_namedtuple_reads_no_nested_class():
    escapes = _refused(MERGED)
    assert any("_x.numpy().ctypes" in v.code and ".ctypes" in v.rule for v in escapes)


_NESTED = ("    class {name}:\n        class numpy:\n            class ctypes:\n                pass\n\n\n")
MERGE_ROUTES = [
    ("if/else aliases", "import collections\n\n\nclass _A:\n" + _NESTED.format(name="numpy")
     + "_P = collections.namedtuple('_P', 'numpy')\nif torch.zeros(1).sum() == 0:\n    _C = _P\nelse:\n"
     "    _C = _A\n_x = _C(torch.zeros(2).numpy)\n_v = _x.numpy().ctypes\n"),
    ("renamed field", "import collections\n\n\nclass _C:\n" + _NESTED.format(name="_0")
     + "_C = collections.namedtuple('_C', 'class', rename=True)\n_x = _C(torch.zeros(2).numpy)\n"
     "_v = _x._0().ctypes\n"),
    ("typing.NamedTuple call", "import typing\n\n\nclass _C:\n" + _NESTED.format(name="numpy")
     + "_C = typing.NamedTuple('_C', [('numpy', object)])\n_x = _C(torch.zeros(2).numpy)\n"
     "_v = _x.numpy().ctypes\n"),
]


@pytest.mark.parametrize(("name", "snippet"), MERGE_ROUTES, ids=[n for n, _ in MERGE_ROUTES])
def test_every_merge_with_a_namedtuple_keeps_nested_classes_unknown(name, snippet):
    assert review.check(_snippet_source(snippet), HW1).escapes


def test_a_name_bound_to_two_own_classes_still_reads_their_nested_classes():
    snippet = ("class _A:\n    class Cfg:\n        scale = 2.0\n\n\nclass _B:\n    class Cfg:\n        scale = 3.0\n\n\n"
               "if torch.zeros(1).sum() == 0:\n    _C = _A\nelse:\n    _C = _B\n_v = _C().Cfg.scale\n")
    assert review.check(_snippet_source(snippet), HW1).violations == []


ESCAPES = [MERGED]


@pytest.mark.sandbox
@pytest.mark.parametrize("part", ESCAPES)
def test_an_escape_of_this_pass_earns_nothing_sandboxed(tmp_path, grade, part):
    path = tmp_path / HW1.submission
    path.write_text(_escape_source(part))
    result = grade(path, HW1, seed=3)
    assert result.score == 0, report.details(result)


# ----------------------------------------------------------------------------------------------
# Fairness: what the fixes must keep.

FAIR = [PARTS1 / "rt19_fair_namedtuple_beside_config_class.py"]


@pytest.mark.parametrize("part", FAIR, ids=[p.name for p in FAIR])
def test_fair_styles_keep_full_credit(tmp_path, part):
    result = _grade(tmp_path, HW1, part.parent / "correct_base.py", part)
    assert result.score == pytest.approx(100), report.details(result)
