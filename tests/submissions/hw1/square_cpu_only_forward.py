"""Square's forward moves its input to the CPU, so a CUDA input gets a CPU output."""

from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.cpu() * x.cpu()  # mistake: the output must stay on x's device

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x
