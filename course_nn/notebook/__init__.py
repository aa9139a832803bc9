"""What a notebook handout calls: ``from course_nn import notebook as course``.

    course.setup("hw1")          # the assignment; prints the device (CUDA when there is one)
    course.check("Sigmoid")      # the visible checks of one task, the table `course-nn check` prints
    course.train(task="spiral")  # hw1: train with your Functions; curves and decision boundary inline
    course.train_mlp()           # hw2: your MLP, trained by your train_epoch and sgd_step
    course.trace(net="mlp")      # hw1: `course-nn trace`'s picture, inline
    course.submit()              # writes upload/<file> from the graded cells you ran

Everything runs on the code this kernel ran: for each task, the last cell you ran that defines it,
with IPython lines left out as the grader leaves them out (kernel.py). These are a student's own
checks, run in the notebook's process; grading runs the same checks in the sandbox.
"""

from course_nn.notebook.checks import check
from course_nn.notebook.kernel import setup, submit
from course_nn.notebook.live import trace, train, train_mlp

__all__ = ["check", "setup", "submit", "trace", "train", "train_mlp"]
