"""Public self-checks for hw2: the autograder's visible tests, one test per task and check.

Run them from this folder:
    pytest                      # everything
    pytest -m task2_8           # one task (task numbers are in README.md)
    pytest -k MLP               # one function or class
    pytest -k "perceptron_train and edge"

Each failure names the task, the case, what was expected and what your code returned, and often
the likely mistake. The same checks, as a table: `course-nn check mlp.py`.

Checks per task:
    main        random inputs, compared with the grader's own computation
    edge        edge inputs (points on the boundary, None biases, batch size 1, ...), the
                lecture's examples, and end-to-end checks (the MLP must learn the spiral)
    compliance  the contract: documented return types and shapes, inputs left unchanged, and
                the MLP built from the supplied Functions via .apply
"""

import pytest

from course_nn.grading import selftest


@pytest.mark.parametrize(("function", "check"), selftest.params("hw2"))
def test_hw2(function, check):
    selftest.check(__file__, "hw2", function, check)
