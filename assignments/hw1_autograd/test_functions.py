"""Public self-checks for hw1: the autograder's visible tests, one test per Function and check.

Run them from this folder:
    pytest                  # everything
    pytest -m task1_3       # one task (task numbers are in README.md)
    pytest -k Linear        # one Function
    pytest -k "Linear and backward"

Each failure names the Function, the case, the input and index, expected vs actual values, the
relative error, and the likely mistake. The same checks, as a table: `course-nn check functions.py`.

Checks per Function:
    forward     values vs torch's built-in (float64 and float32), dtype/device kept, inputs untouched
    backward    backward called directly: one gradient per input, exact shapes and dtypes, values,
                grad_output and inputs untouched, tensors saved with ctx.save_for_backward
    gradcheck   finite differences of your own forward vs your backward (float64, small shapes)
    edge        batch size 1, large values, bias None, probability targets, needs_input_grad
    compliance  no autograd and no built-in shortcut inside your Function
"""

import pytest

from course_nn.grading import selftest


@pytest.mark.parametrize(("function", "check"), selftest.params("hw1"))
def test_hw1(function, check):
    selftest.check(__file__, "hw1", function, check)
