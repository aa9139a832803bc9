# rt9 (crash): Sigmoid raises KeyboardInterrupt (a built-in exception name the gate admits), which the probes'
# guard re-raises on purpose so that Ctrl-C stops a student's own check; ReLU raises SystemExit(0) and Linear
# GeneratorExit, BaseExceptions that are not Exceptions. The grader must lose only those Functions: the others
# keep their credit, nothing escapes engine.grade, and the sandboxed run reports no error of the grader's own.
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        raise KeyboardInterrupt

    @staticmethod
    def backward(ctx, grad_output):
        raise KeyboardInterrupt


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        raise SystemExit(0)

    @staticmethod
    def backward(ctx, grad_output):
        raise SystemExit(0)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        raise GeneratorExit

    @staticmethod
    def backward(ctx, grad_output):
        raise GeneratorExit
