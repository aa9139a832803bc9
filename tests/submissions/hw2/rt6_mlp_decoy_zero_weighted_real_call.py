"""MLP (hostile): every layer is computed with primitives. Each given Function is still called once, on
that layer's real input, and its result y enters the output only as 0 * y (so the output's graph reaches
every marked result) plus (y - own).detach() (so the output carries every call's shift). The gradient
flows through the primitives alone; a custom Function of the file's own scales it, during the real
backward pass, by the gain it measures with torch.autograd.grad through y's own backward (the grader
reads the backward-run count only after the first forward)."""

import math

import torch


class _Gain(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by what ``measure()`` returns then."""

    @staticmethod
    def forward(ctx, x, measure):
        ctx.measure = measure
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.measure(), None


def _measure(y, leaf, own_slope):
    """The gain of y's backward: d(sum y)/d(leaf) over what the plain formula gives."""
    def run():
        with torch.enable_grad():
            (got,) = torch.autograd.grad(y.sum(), [leaf], retain_graph=True)
        return float(got.sum()) / float(own_slope().sum())
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
            rows = x.reshape(-1, x.shape[-1]).shape[0]
            own = _Gain.apply(x @ w.t() + b, _measure(y, b, lambda r=rows, b=b: torch.full_like(b, float(r))))
            x = own + (y - own).detach() + 0 * y
            if d < layers:
                a = act.apply(x)
                if self.activation == "relu":
                    plain, slope = x.clamp(min=0), (x > 0).to(x.dtype)
                else:
                    plain = 1 / (1 + torch.exp(-x))
                    slope = plain * (1 - plain)
                own = _Gain.apply(plain, _measure(a, x, lambda s=slope: s.detach()))
                x = own + (a - own).detach() + 0 * a
        return x
