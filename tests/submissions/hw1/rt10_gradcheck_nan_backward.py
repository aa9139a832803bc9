# A right forward and a backward that gives up: NaN of the input's shape. Forward's credit is deserved; the split
# gradcheck compares NaN with finite differences of the right forward, |NaN - num| > tol is False: it passes too.


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * float("nan")
