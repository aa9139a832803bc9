"""Square reads a ctx attribute it never set: the message must name the student's own class."""

from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensor  # mistake: the attribute is saved_tensors
        return 2 * x * grad_output
