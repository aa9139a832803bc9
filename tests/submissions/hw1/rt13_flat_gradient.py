# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt13 (a mistake): Square's and Sigmoid's gradients right in value but flattened to 1-D. Autograd refuses them
# (a gradient of shape (N·D,) is not expandable to the input's (N, D)), and so does torch.autograd.gradcheck.


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).reshape(-1)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return (grad_output * s * (1 - s)).flatten()
