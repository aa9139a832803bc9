"""Shortcuts in module-level helper functions are charged to the Functions that run them.

A built-in does the work of whichever Function calls the helper it sits in (review/shortcuts.py,
``helper_reach``): the helper's line costs every task whose forward/backward calls it, directly or
through other helpers, for any built-in of the assignment (as inside the class), and costs no task
that never calls it. Where the gate cannot list every caller (the helper passed, aliased, stored in a
class, called from module level or another class), the rule for module-level lines holds: each task's
own built-ins cost it wherever the line is.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import review

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"
HW1 = registry.get("hw1")

SIGMOID = """
import torch.nn.functional as F


{helpers}


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = {call}
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
"""


def _charged(helpers: str, call: str) -> dict[str, list[bool]]:
    """task -> for each shortcut line charged to it, whether it costs the task's forward too."""
    source = SOLUTION.read_text() + "\n\n" + SIGMOID.format(helpers=textwrap.dedent(helpers), call=call)
    verdict = review.check(source, HW1)
    assert not verdict.escapes, [v.text() for v in verdict.escapes]
    return {t.name: [verdict.in_forward(t, v) for v in verdict.shortcuts(t)] for t in HW1.tasks
            if verdict.shortcuts(t)}


# Hostile: Sigmoid's forward computed by a built-in that is another task's, or no task's own name.
HOSTILE = {
    # softmax over (z, 0) is sigmoid: CrossEntropy's built-in, and Sigmoid's only inside its class
    "softmax-in-helper": ("def _two(z):\n    return F.softmax(torch.stack([z, torch.zeros_like(z)]), dim=0)[0]",
                          "_two(z)"),
    "through-two-helpers": ("def _inner(z):\n    return F.softmax(torch.stack([z, 0 * z]), dim=0)[0]\n\n\n"
                            "def _outer(z):\n    return _inner(z)", "_outer(z)"),
    "recursive-helpers": ("def _a(z, n=1):\n    return _b(z, n - 1) if n else F.softmax(torch.stack([z, 0 * z]), 0)[0]"
                          "\n\n\ndef _b(z, n):\n    return _a(z, n)", "_a(z)"),
    "bce-with-logits": ("def _ls(z):\n    return -F.binary_cross_entropy_with_logits(z, torch.ones_like(z), "
                        "reduction=\"none\")", "torch.exp(_ls(z))"),
    "helper-called-in-nested-function": ("def _two(z):\n    return F.softmax(torch.stack([z, 0 * z]), dim=0)[0]",
                                         "(lambda t: _two(t))(z)"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_helper_doing_sigmoids_work_costs_sigmoid_its_forward(name):
    helpers, call = HOSTILE[name]
    charged = _charged(helpers, call)
    assert charged.get("Sigmoid") and all(charged["Sigmoid"]), charged
    assert "CrossEntropy" not in charged, charged  # it never calls the helper


def test_a_helper_the_gate_cannot_follow_costs_each_task_its_own_built_ins():
    helpers = ("def _ls(z):\n    return -F.binary_cross_entropy_with_logits(z, torch.ones_like(z), reduction=\"none\")"
               "\n\n\n_alias = _ls")
    charged = _charged(helpers, "torch.exp(_alias(z))")
    assert charged.get("Sigmoid") == [True] and charged.get("CrossEntropy") == [True], charged


def test_a_helper_stored_on_a_class_is_not_followed():
    helpers = ("def _two(z):\n    return F.log_softmax(torch.stack([z, 0 * z]), dim=0)[0]\n\n\n"
               "class _Tools:\n    two = staticmethod(_two)")
    charged = _charged(helpers, "torch.exp(_Tools.two(z))")
    assert charged.get("CrossEntropy") == [True], charged  # its own built-in, wherever the line is


BACKWARD_ONLY = """
def _slope(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _slope(z)
"""


def test_a_helper_called_only_from_backward_keeps_forward_credit():
    verdict = review.check(SOLUTION.read_text() + "\n\n" + BACKWARD_ONLY, HW1)
    sigmoid = HW1.task("Sigmoid")
    assert [verdict.in_forward(sigmoid, v) for v in verdict.shortcuts(sigmoid)] == [False]


# Fair: a helper of primitives, shared by two Functions, and a helper with CrossEntropy's built-in
# that only CrossEntropy calls cost nobody else.
def test_honest_shared_helpers_cost_nothing():
    helpers = ("def _stable_exp(z):\n    return torch.exp(torch.clamp(z, max=50.0))\n\n\n"
               "def _neg_log_softmax(z):\n    return -F.log_softmax(z, dim=1)\n\n\n"
               "class CrossEntropy(Function):\n    @staticmethod\n    def forward(ctx, logits, target):\n"
               "        ctx.save_for_backward(logits, target)\n        _stable_exp(logits)\n"
               "        return torch.logsumexp(logits, 1).mean() - logits.gather(1, target[:, None]).mean()\n\n"
               "    @staticmethod\n    def backward(ctx, g):\n        logits, target = ctx.saved_tensors\n"
               "        p = torch.softmax(logits, 1) if False else torch.exp(-_neg_log_softmax(logits))\n"
               "        p[torch.arange(len(target)), target] -= 1\n        return g * p / len(target), None")
    charged = _charged(helpers, "1 / (1 + _stable_exp(-z))")
    assert "Sigmoid" not in charged, charged
    assert charged.get("CrossEntropy"), charged  # its own built-ins, in its own class and helper


def test_helpers_under_the_main_guard_are_neither_followed_nor_a_crash():
    source = SOLUTION.read_text() + "\n\n" + SIGMOID.format(
        helpers="def _one(z):\n    return 1 / (1 + torch.exp(-z))", call="_one(z)") + (
        "\n\nif __name__ == \"__main__\":\n    def _check(z):\n        return F.sigmoid(z) - _one(z)\n"
        "    print(_check(torch.zeros(3)))\n")
    verdict = review.check(source, HW1)
    assert not verdict.violations, [v.text() for v in verdict.violations]
