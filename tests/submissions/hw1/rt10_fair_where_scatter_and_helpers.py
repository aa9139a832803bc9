"""Fair: correct Functions in styles an honest student may write. A two-branch stable sigmoid with torch.where
on exp(-|z|) through a module-level helper that forward and backward both call; a ReLU as torch.where with a
float mask built by an in-place fill on a new tensor; addmm and tensordot for Linear; a squared norm for the
squared error; a cross-entropy written with logsumexp and a one-hot made by scatter_ into new zeros, its backward
from the same helper; einsum and mv for the quadratic form; every backward honouring ctx.needs_input_grad."""


def _stable_sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _one_hot(target, like):
    if target.is_floating_point():
        return target  # class probabilities already
    hot = torch.zeros_like(like)
    hot.scatter_(1, target.reshape(-1, 1), 1.0)
    return hot


def _log_probs(logits):
    return logits - torch.logsumexp(logits, dim=1, keepdim=True)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.mul(x, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.mul(x).mul(2)


class QuadraticForm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return torch.einsum("i,ij,j->", v, A, v)

    @staticmethod
    def backward(ctx, grad_output):
        v, A = ctx.saved_tensors
        grad_v = grad_A = None
        if ctx.needs_input_grad[0]:
            grad_v = grad_output * (torch.mv(A, v) + torch.mv(A.t(), v))
        if ctx.needs_input_grad[1]:
            grad_A = grad_output * torch.einsum("i,j->ij", v, v)
        return grad_v, grad_A


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        s = _stable_sigmoid(z)
        ctx.save_for_backward(z)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        s = _stable_sigmoid(z)
        return grad_output * s * (1 - s)


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        mask = torch.empty_like(z)
        mask.fill_(0.0)
        mask[z > 0] = 1.0
        ctx.save_for_backward(mask)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        if bias is None:
            return torch.mm(x, weight.t())
        return torch.addmm(bias, x, weight.t())

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = torch.tensordot(grad_output, weight, dims=([1], [0]))
        if ctx.needs_input_grad[1]:
            gw = torch.tensordot(grad_output, x, dims=([0], [0]))
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = grad_output.sum(dim=0)
        return gx, gw, gb


class SquaredError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return torch.linalg.vector_norm(diff) ** 2 / diff.numel()

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        g = grad_output * 2 * diff / diff.numel()
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None)


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        ctx.save_for_backward(logits, target)
        hot = _one_hot(target, logits)
        return -(hot * _log_probs(logits)).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        probs = torch.exp(_log_probs(logits))
        return grad_output * (probs - _one_hot(target, logits)) / logits.shape[0], None
