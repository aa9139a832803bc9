"""ReLU with gradient 2 at exactly z = 0: outside [0, 1], not a subgradient."""

from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        slope = (z > 0).to(grad_output.dtype) + 2.0 * (z == 0).to(grad_output.dtype)
        return grad_output * slope
