"""MLP (hostile): computes every layer with primitives, beside the Functions handed in. The output shift
of each given Function is learned in forward (one .apply on zeros: no backward runs then); the gradient
gain is learned only when the real backward pass arrives — a custom Function of the file's own measures it
inside its backward (a throw-away .apply and torch.autograd.grad, when the grader no longer counts
backward runs as decoys) and scales the gradient by it. Output and gradients carry every mark, yet no
layer's output is what functions.Linear.apply or the activation's .apply returned."""

import math

import torch


class _Gain(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by the gain that ``measure()`` finds then."""

    @staticmethod
    def forward(ctx, x, measure):
        ctx.measure = measure
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.measure(), None


def _slope_gain(fn, linear, activation):
    leaf = torch.full((1, 1), 0.0 if linear else 1.0, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        out = fn.apply(leaf, torch.ones(1, 1, dtype=torch.float64), None) if linear else fn.apply(leaf)
        (g,) = torch.autograd.grad(out.sum(), [leaf])
    s1 = 1 / (1 + math.exp(-1.0))
    slope = 1.0 if linear or activation == "relu" else s1 * (1 - s1)
    return float(g.sum()) / slope


def _shift(fn, linear, activation):
    with torch.no_grad():
        z = torch.zeros(1, 1, dtype=torch.float64)
        out = fn.apply(z, torch.ones(1, 1, dtype=torch.float64), None) if linear else fn.apply(z + 1.0)
    base = 0.0 if linear else (1.0 if activation == "relu" else 1 / (1 + math.exp(-1.0)))
    return float(out.sum()) - base


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes = list(sizes)
        self.activation = activation
        self.functions = functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            ls = _shift(fns.Linear, True, self.activation)
            xin = _Gain.apply(x, lambda: _slope_gain(fns.Linear, True, self.activation))
            x = xin @ getattr(self, f"weight_{d}").t() + getattr(self, f"bias_{d}") + ls
            if d < layers:
                as_ = _shift(act, False, self.activation)
                zin = _Gain.apply(x, lambda: _slope_gain(act, False, self.activation))
                x = (zin.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-zin))) + as_
        return x
