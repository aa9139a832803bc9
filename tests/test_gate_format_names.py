"""`str.format` reached by a name, and name tables used for more than indexing (the fifth red-team pass).

`.format`/`.format_map` read attributes and items by the names inside their template, so the gate
admits them only on a written-out template whose fields read nothing (`"{} {x}"`). The same rule must
hold however the method is reached: `getattr(t, NAME)` / `hasattr` with any name the gate lists
(a string, a conditional, a dict, a variable) and a class pattern's keyword (`case str(format=f)`).
A dict of written-out names stays a name the gate can list when the file only reads it: a membership
test, `len`, iteration and `.get`/`.keys`/`.values`/`.items` change none of its values.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import review

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
SOLUTION2 = ROOT / "solutions" / "hw2_mlp" / "mlp.py"
HW1, HW2 = registry.get("hw1"), registry.get("hw2")

GEN = "def _gen():\n    yield 1\n_g = _gen()\n_T = \"{0.gi_frame.f_back}\"\n"

HOSTILE = {
    "getattr-format-map": "_s = getattr(_T, \"format_map\")({0: _g})  # hole",
    "getattr-name-from-dict": "_N = {\"a\": \"format\"}\n_s = getattr(_T, _N[\"a\"])(_g)  # hole",
    "getattr-name-from-conditional": "_s = getattr(_T, \"format\" if _g else \"upper\")(_g)  # hole",
    "getattr-name-in-variable": "_n = \"form\" \"at\"\n_s = getattr(_T, _n)(_g)  # hole",
    "getattr-name-from-loop": "for _n in (\"upper\", \"format\"):\n    _s = getattr(_T, _n)  # hole",
    "getattr-on-str-class": "_s = getattr(str, \"format\")(_T, _g)  # hole",
    "getattr-third-argument": "_s = getattr(_T, \"format\", None)(_g)  # hole",
    "hasattr-format": "_s = hasattr(_T, \"format\")  # hole",
    "getattr-on-plain-template-variable": "_P = \"{}\"\n_s = getattr(_P, \"format\")(_g)  # hole",
    "match-format-map": ("match _T:\n    case str(format_map=_f):  # hole\n        _s = _f({0: _g})"),
    "match-nested-class-pattern": ("match [_T]:\n    case [str(format=_f)]:  # hole\n        _s = _f(_g)"),
    "match-keyword-not-listed": "match _g:\n    case object(gi_running=_r):  # hole\n        pass",
    "match-keyword-dunder": "match _g:\n    case object(__class__=_c):  # hole\n        pass",
    "getattr-name-from-tuple-item": "_s = getattr(_T, (\"format\", \"upper\")[0])(_g)  # hole",
    "match-object-format": "match _T:\n    case object(format=_f):  # hole\n        _s = _f(_g)",
    "format-through-vars": "_s = vars(str)[\"format\"](_T, _g)  # hole",
    "format-through-methodcaller": "import operator\n_s = operator.methodcaller(\"format\", _g)(_T)  # hole",
}


def _planted(snippet: str, base: Path = SOLUTION) -> str:
    return base.read_text() + "\n\n" + GEN + textwrap.dedent(snippet) + "\n"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_format_reached_by_name_is_refused_at_its_line(name):
    source = _planted(HOSTILE[name])
    hole = next(i for i, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# hole"))
    escapes = review.check(source, HW1).escapes
    assert hole in {v.line for v in escapes}, [v.text() for v in escapes]


FAIR = {
    "getattr-written-out-template": "_s = getattr(\"{} of {n}\", \"format\")(1, n=2)",
    "getattr-plain-format-map": "_s = getattr(\"{a}-{b}\", \"format_map\")({\"a\": 1, \"b\": 2})",
    "getattr-listed-string-method": "_s = getattr(\"abc\", \"upper\" if len(\"x\") else \"lower\")()",
    "match-listed-keyword": "match \"abc\":\n    case str(upper=_u):\n        _s = _u()",
    "format-written-out": "_s = \"{:.3f} and {name!r}\".format(1.0, name=\"x\")",
}


@pytest.mark.parametrize("name", sorted(FAIR))
def test_a_plain_template_taken_any_way_passes(name):
    verdict = review.check(_planted(FAIR[name]), HW1)
    assert not verdict.escapes, [v.text() for v in verdict.escapes]


# ----------------------------------------------------------------------------------------------
# hw2: a module-level dict of the handed Functions' names, read in other ways too

PICKER = """
_NAMES = {{"relu": "ReLU", "sigmoid": "Sigmoid"}}


class Picker(torch.nn.Module):
    def __init__(self, functions, activation):
        super().__init__()
        {check}
        self.functions, self.activation = functions, activation

    def forward(self, x):
        return getattr(self.functions, _NAMES[self.activation]).apply(x)
"""

READS = {
    "not-in": "if activation not in _NAMES: raise ValueError(activation)",
    "in": "assert activation in _NAMES, sorted(_NAMES.keys())",
    "len-and-loop": "self.n = len(_NAMES) + len([k for k in _NAMES]) + sum(1 for k in _NAMES.values())",
    "for-statement": "for k in _NAMES: print(k)",
    "get-and-items": "self.pairs = list(_NAMES.items()) + [_NAMES.get(activation)]",
}
CHANGES = {
    "item-stored": "_NAMES[\"relu\"] = \"register_forward_hook\"",
    "updated": "_NAMES.update(relu=\"register_forward_hook\")",
    "setdefault": "_NAMES.setdefault(\"x\", \"register_forward_hook\")",
    "passed-on": "print(_NAMES)",
    "method-kept": "self.g = _NAMES.get",
    "on-the-left-of-in": "if _NAMES in [activation]: pass",
    "len-rebound": "len = print\n        len(_NAMES)",
    "aliased": "names = _NAMES\n        names[\"relu\"] = \"register_forward_hook\"",
}


@pytest.mark.parametrize("name", sorted(READS))
def test_a_name_table_only_read_stays_a_name_the_gate_can_list(name):
    source = SOLUTION2.read_text() + "\n\n" + PICKER.format(check=READS[name])
    verdict = review.check(source, HW2)
    assert not verdict.escapes, [v.text() for v in verdict.escapes]


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_name_table_that_may_change_is_no_name_the_gate_can_list(name):
    source = SOLUTION2.read_text() + "\n\n" + PICKER.format(check=CHANGES[name])
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "getattr(self.functions, _NAMES" in text)
    escapes = review.check(source, HW2).escapes
    assert line in {v.line for v in escapes}, [v.text() for v in escapes]
