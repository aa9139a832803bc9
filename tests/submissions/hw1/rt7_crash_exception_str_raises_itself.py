"""Crash (hostile): Sigmoid.forward raises an exception whose __str__ (an allowed double-underscore
method) raises another exception of the same class. The grader's describe_exception formats it in the
probe's guard, which then raises out of the guard; in-process grading (engine.grade(isolate=False), the
notebook's course.check) formats it again in its own handler, which raises out of engine.grade: a
traceback instead of a result. In the sandbox the child exits with status 1 and only Sigmoid is lost."""
from torch.autograd import Function


class _Self(ValueError):
    def __str__(self):
        raise _Self()


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        raise _Self()

    @staticmethod
    def backward(ctx, g):
        return g
