"""Seven Functions that compute nothing: forward is zero of the output's shape, backward zero of each input's
shape. A constant forward and a zero backward agree with each other, so the split gradcheck (which checks
backward against finite differences of the file's own forward) passes; the "idle" rule that denies such
Functions compliance credit (hw1/scoring.score_task) does not cover gradcheck."""

KILL = 0.0


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * KILL

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return x * (grad_output.sum() * KILL)


class QuadraticForm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return (v @ (A @ v)) * KILL

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        return v * (grad_output.sum() * KILL), A * (grad_output.sum() * KILL)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * KILL

    @staticmethod
    def backward(ctx, grad_output):
        z, = ctx.saved_tensors
        return z * (grad_output.sum() * KILL)


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * KILL

    @staticmethod
    def backward(ctx, grad_output):
        z, = ctx.saved_tensors
        return z * (grad_output.sum() * KILL)


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight, bias)
        return (x @ weight.t() + bias) * KILL

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        return x * (grad_output.sum() * KILL), weight * (grad_output.sum() * KILL), bias * (grad_output.sum() * KILL)


class SquaredError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return ((pred - target) ** 2).mean() * KILL

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        return pred * (grad_output.sum() * KILL), target * (grad_output.sum() * KILL)


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        ctx.save_for_backward(logits, target)
        return logits.sum() * KILL

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        return logits * (grad_output.sum() * KILL), None
