"""In-place tensor methods: listed exactly where their out-of-place form is (registry/api.py).

`x.index_put_(...)` writes the same values as `x = x.index_put(...)`: refusing it as an escape cost a
correct file every check (the fifth red-team pass). The table lists the in-place twin of every listed
tensor method torch has one for, and nothing whose out-of-place form is unlisted; an unlisted in-place
method is still refused, with a message that says how to write it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from course_nn import registry
from course_nn.grading import review
from course_nn.registry.api import ATTRIBUTES, BASE

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
HW1 = registry.get("hw1")
TENSOR_GROUPS = ("tensor math (also numpy arrays)", "tensor methods")
ALL = BASE.attribute_names()
TENSOR = {n for g in ATTRIBUTES if g.title in TENSOR_GROUPS for n in g.names}


def test_every_listed_in_place_method_has_its_out_of_place_form_listed():
    in_place = sorted(n for n in ALL if n.endswith("_") and not n.startswith("_"))
    # (the initialisers fill a tensor with fresh values; sgd_step's p.grad.zero_(); autograd's own)
    fills = {"zero_", "fill_", "copy_", "uniform_", "normal_", "resize_", "requires_grad_"}
    assert [n for n in in_place if n not in fills and n[:-1] not in ALL] == []
    assert [n for n in in_place if not hasattr(torch.Tensor, n)] == []


def test_every_listed_tensor_method_with_an_in_place_twin_lists_it():
    missing = sorted(f"{n}_" for n in TENSOR if not n.endswith("_") and hasattr(torch.Tensor, f"{n}_")
                     and f"{n}_" not in ALL)
    assert missing == [], "list these in registry/api.py's _IN_PLACE (or drop their out-of-place form)"


FAIR = """
def _scatter_rows(x, rows, values):
    out = torch.zeros_like(x)
    out.index_put_((rows,), values)
    out.clamp_(min=0).tanh_().mul_(2)
    out.masked_fill_(out > 1, 1.0).cumsum_(0)
    return out
"""


def test_in_place_twins_of_listed_methods_pass_the_gate():
    verdict = review.check(SOLUTION.read_text() + "\n\n" + FAIR, HW1)
    assert not verdict.violations, [v.text() for v in verdict.violations]


@pytest.mark.parametrize("method", ["index_reduce_(0, i, v, 'prod')", "set_(x)", "apply_(abs)", "map_(x, max)"])
def test_an_unlisted_in_place_method_is_refused_with_a_way_to_write_it(method):
    source = SOLUTION.read_text() + f"\n\ndef _f(x, i, v):\n    x.{method}\n    return x\n"
    escapes = review.check(source, HW1).escapes
    name = method.split("(")[0]
    assert [v.line for v in escapes] == [len(source.splitlines()) - 1], [v.text() for v in escapes]
    assert f"`.{name}`" in escapes[0].rule and "out-of-place form" in escapes[0].rule
