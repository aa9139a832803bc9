"""MLP (hostile): one call per layer, on a probe instead of the real input: a zero row (Linear) or a
row of ones (the activation). What the call added is read off the probe's result and added to a
primitive computation, and the probe's result joins the output's graph times zero — so the call
count and the graph look right. The gain is read, during the real backward pass, from that very
probe result's backward (a Function of the file's own). It must earn nothing: each call's mark
depends on the call's own input, so the probe's mark is not the real input's."""

import math

import torch


class _Gain(torch.autograd.Function):
    """Identity forward; backward scales the gradient by what the probe's own backward shows."""

    @staticmethod
    def forward(ctx, x, probe_in, probe_out, slope):
        ctx.probe = (probe_in, probe_out, slope)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        probe_in, probe_out, slope = ctx.probe
        with torch.enable_grad():
            (d,) = torch.autograd.grad(probe_out.sum(), [probe_in], retain_graph=True)
        return g * (float(d.sum()) / slope), None, None, None


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
        sigmoid = self.activation != "relu"
        act = fns.Sigmoid if sigmoid else fns.ReLU
        layers = len(self.sizes) - 1
        s1 = 1 / (1 + math.exp(-1.0))
        for d in range(1, layers + 1):
            w, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            probe = torch.zeros(1, 1, dtype=x.dtype, requires_grad=True)
            seen = fns.Linear.apply(probe, torch.ones(1, 1, dtype=x.dtype), None)
            xin = _Gain.apply(x, probe, seen, 1.0)
            x = xin @ w.t() + b + seen.detach() + 0.0 * seen
            if d < layers:
                probe = torch.ones(1, 1, dtype=x.dtype, requires_grad=True)
                seen = act.apply(probe)
                base = s1 if sigmoid else 1.0
                zin = _Gain.apply(x, probe, seen, s1 * (1 - s1) if sigmoid else 1.0)
                plain = 1 / (1 + torch.exp(-zin)) if sigmoid else zin.clamp(min=0)
                x = plain + (seen.detach() - base) + 0.0 * seen
        return x
