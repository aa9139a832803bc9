"""hw1 on the parent side: choose the inputs, compute references with torch's built-ins, score.

The child only reports what the submission returned; every comparison happens here, against
float64 references from ``torch.nn.functional``. Hidden cases come from a secret seed, so a student
never sees their inputs, and feedback on them never prints expected values.

This package is the plugin the registry names (``grader="course_nn.grading.hw1"``, see
grading/plugin.py): ``PROBE``, ``make_cases``, ``precompute`` and ``score_task``. By concern:

- ``specs``: what the grader knows about each Function (one ``FunctionSpec`` in ``SPECS``);
  ``inputs`` draws its random inputs and ``mistakes`` holds the hints typical of it;
- ``cases``: the cases of every task, visible and hidden, and the references added to them;
- ``checks``: one case's forward, backward, edge and gradcheck problems; ``hints`` names the
  likely mistake behind a wrong value;
- ``compliance``: signs that autograd, a built-in or numerical differentiation did the work;
- ``scoring``: one Outcome per category for one Function.
"""

from course_nn.grading.hw1.cases import make_cases, precompute
from course_nn.grading.hw1.checks import _grad_problem as _grad_problem
from course_nn.grading.hw1.checks import (
    check_backward,
    check_edge,
    check_forward,
    check_gradcheck,
    compare,
)
from course_nn.grading.hw1.hints import forward_hint, grad_hint, shape_hint
from course_nn.grading.hw1.scoring import score_task
from course_nn.grading.hw1.specs import SPECS, FunctionSpec, reference, reference_grads

PROBE = "probe_hw1"

__all__ = ["PROBE", "SPECS", "FunctionSpec", "check_backward", "check_edge", "check_forward", "check_gradcheck",
           "compare", "forward_hint", "grad_hint", "make_cases", "precompute", "reference", "reference_grads",
           "score_task", "shape_hint"]
