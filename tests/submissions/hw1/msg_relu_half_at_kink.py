"""ReLU with gradient ½ at exactly z = 0: a subgradient like 0 and 1, so it is accepted."""

from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        slope = (z > 0).to(grad_output.dtype) + 0.5 * (z == 0).to(grad_output.dtype)
        return grad_output * slope
