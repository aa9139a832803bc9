"""MLP (hostile): every layer is computed with primitives. Each given Function is called once in forward,
on that layer's real input, and its result y enters the output as 0 * y plus (y - own).detach(), as in
rt6_mlp_decoy_zero_weighted_real_call.py — but y's own backward is never driven by the file. Instead the
file's own Function, during the real backward, calls the given Function once more on the same (saved)
input and measures the gain through that fresh result's backward with the real upstream gradient, then
scales the primitives' gradient by it. The fresh call is another call: its gain is not the layer's."""

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


def _measure(again, leaf, plain_grad):
    """A fresh call's backward at the real upstream gradient g, over what the plain formula gives there."""
    def run(g):
        with torch.enable_grad():
            (got,) = torch.autograd.grad(again(), [leaf], grad_outputs=g)
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
            xs = x.detach()
            own = _Gain.apply(x @ w.t() + b, _measure(lambda xs=xs, w=w, b=b: fns.Linear.apply(xs, w, b), b,
                                                      lambda g: g.reshape(-1, g.shape[-1]).sum(0)))
            x = own + (y - own).detach() + 0 * y
            if d < layers:
                a = act.apply(x)
                z = x.detach().requires_grad_(True)
                if self.activation == "relu":
                    plain, slope = x.clamp(min=0), (x > 0).to(x.dtype).detach()
                else:
                    plain = 1 / (1 + torch.exp(-x))
                    slope = (plain * (1 - plain)).detach()
                own = _Gain.apply(plain, _measure(lambda z=z: act.apply(z), z, lambda g, s=slope: g * s))
                x = own + (a - own).detach() + 0 * a
        return x
