# rt9 (fair): correct Functions in unusual but legitimate styles: Sigmoid through the tanh identity
# σ(z) = (1 + tanh(z/2)) / 2 with the slope from tanh, ReLU's mask as a multiplication by a boolean tensor,
# Linear with einsum and a bias gradient from a ones-vector product, SquaredError from one saved difference and
# CrossEntropy from the one-hot rows of F.one_hot (class indices) with the softmax computed by hand.
import torch
import torch.nn.functional as F
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        t = torch.tanh(z / 2)
        ctx.save_for_backward(t)
        return (1 + t) / 2

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * (1 - t * t) / 4


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        mask = z > 0
        ctx.save_for_backward(mask)
        return z * mask

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = torch.einsum("ni,oi->no", x, weight)
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = torch.einsum("no,oi->ni", grad_output, weight) if ctx.needs_input_grad[0] else None
        grad_w = torch.einsum("no,ni->oi", grad_output, x) if ctx.needs_input_grad[1] else None
        ones = torch.ones(grad_output.shape[0], dtype=grad_output.dtype)
        grad_b = ones @ grad_output if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return (diff * diff).sum() / diff.numel()

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        d = 2 * grad_output * diff / diff.numel()
        return d, -d


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        top = logits.max(dim=1, keepdim=True).values
        e = torch.exp(logits - top)
        p = e / e.sum(dim=1, keepdim=True)
        y = target if target.is_floating_point() else F.one_hot(target.long(), logits.shape[1]).to(logits.dtype)
        ctx.save_for_backward(p, y)
        log_p = logits - top - torch.log(e.sum(dim=1, keepdim=True))
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        p, y = ctx.saved_tensors
        return grad_output * (p * y.sum(dim=1, keepdim=True) - y) / p.shape[0], None
