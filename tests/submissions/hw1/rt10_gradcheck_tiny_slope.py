"""Seven Functions that do no work yet agree with themselves: each forward is a linear map of its inputs with a
tiny slope S (no main case right), each backward that slope times the upstream gradient. Their forward moves, so a
rule that only looks for a constant forward misses them; the split gradcheck (backward against finite differences
of the file's own forward) passes everywhere. Held by the idle rule (hw1/scoring.score_task): a Function with no
main case right earns no gradcheck, edge or compliance credit."""

S = 1e-3


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * S

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * S


class QuadraticForm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return v.sum() * S

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        return torch.ones_like(v) * (grad_output * S), torch.zeros_like(A)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return z * S

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * S


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return z * S

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * S


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight, bias)
        return torch.zeros(x.shape[0], weight.shape[0], dtype=x.dtype) + x.sum(1, keepdim=True) * S

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        grad_x = torch.zeros_like(x) + grad_output.sum(1, keepdim=True) * S
        return grad_x, torch.zeros_like(weight), torch.zeros_like(bias)


class SquaredError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred)
        return (pred - target).sum() * S

    @staticmethod
    def backward(ctx, grad_output):
        pred, = ctx.saved_tensors
        return torch.ones_like(pred) * (grad_output * S), -torch.ones_like(pred) * (grad_output * S)


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        ctx.save_for_backward(logits)
        return logits.sum() * S

    @staticmethod
    def backward(ctx, grad_output):
        logits, = ctx.saved_tensors
        return torch.ones_like(logits) * (grad_output * S), None
