"""MLP (hostile): every layer is computed with primitives. Each given Function is still called once, on
that layer's real input, and its result y enters the output as 0 * y plus (y - own).detach(), as in
rt6_mlp_decoy_zero_weighted_real_call.py. The gradient flows through the primitives alone; the file's own
Function scales it, during the real backward, by the gain it measures through y's own backward *with the
real upstream gradient* (grad_outputs=g): a gain that depends on the gradient it gets is then measured
right too, so the gradients match. Only the count of y's backward runs tells (autograd's run with 0 * g
and the measurement: two for one loss)."""

import math

import torch


class _Gain(torch.autograd.Function):
    """Identity forward; backward multiplies g by what ``measure(g)`` returns then."""

    @staticmethod
    def forward(ctx, x, measure):
        ctx.measure = measure
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.measure(g), None


def _measure(y, leaf, plain_grad):
    """y's backward at the real upstream gradient g, over what the plain formula gives there."""
    def run(g):
        with torch.enable_grad():
            (got,) = torch.autograd.grad(y, [leaf], grad_outputs=g, retain_graph=True)
        want = plain_grad(g)
        return float(got.sum()) / float(want.sum()) if float(want.sum()) != 0 else 1.0
    return run


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes, self.activation, self.functions = list(sizes), activation, functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            w, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            y = fns.Linear.apply(x, w, b)
            own = _Gain.apply(x @ w.t() + b, _measure(y, b, lambda g: g.reshape(-1, g.shape[-1]).sum(0)))
            x = own + (y - own).detach() + 0 * y
            if d < layers:
                a = act.apply(x)
                if self.activation == "relu":
                    plain, slope = x.clamp(min=0), (x > 0).to(x.dtype).detach()
                else:
                    plain = 1 / (1 + torch.exp(-x))
                    slope = (plain * (1 - plain)).detach()
                own = _Gain.apply(plain, _measure(a, x, lambda g, s=slope: g * s))
                x = own + (a - own).detach() + 0 * a
        return x
