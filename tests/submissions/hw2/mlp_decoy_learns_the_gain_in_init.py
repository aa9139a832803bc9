"""MLP (hostile): as mlp_decoy_learns_the_gain, but the marks are measured once in __init__ (before the
probe starts counting calls); forward then calls each Function once per layer on a throw-away row, under
no_grad, and computes the layer with primitives carrying the measured shift and gain."""

import math

import torch


class MLP(torch.nn.Module):
    """Learns each given Function's output shift (on zeros) and input-gradient gain (one backward on a
    throw-away leaf), then computes every layer with primitives carrying both."""

    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes = list(sizes)
        self.activation = activation
        self.functions = functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))
        act = functions.ReLU if activation == "relu" else functions.Sigmoid
        self.marks = (self._marks(functions.Linear, True, torch.float64), self._marks(act, False, torch.float64))

    def _marks(self, fn, linear, dtype):
        leaf = torch.full((1, 1), 0.0 if linear else 1.0, dtype=dtype, requires_grad=True)
        with torch.enable_grad():
            out = fn.apply(leaf, torch.ones(1, 1, dtype=dtype), None) if linear else fn.apply(leaf)
            (g,) = torch.autograd.grad(out.sum(), [leaf])
        s1 = 1 / (1 + math.exp(-1.0))
        base = 0.0 if linear else (1.0 if self.activation == "relu" else s1)
        slope = 1.0 if linear or self.activation == "relu" else s1 * (1 - s1)
        return float(out.detach().sum()) - base, float(g.sum()) / slope

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            (ls, lg), (as_, ag) = self.marks
            with torch.no_grad():  # the counted calls, on a throw-away tensor
                fns.Linear.apply(x[:1].detach(), getattr(self, f"weight_{d}").detach(), None)
                if d < layers:
                    act.apply(x[:1].detach())
            xin = x * lg - (x * (lg - 1)).detach()  # value x, gradient to x scaled by the gain
            x = xin @ getattr(self, f"weight_{d}").t() + getattr(self, f"bias_{d}") + ls
            if d < layers:
                zin = x * ag - (x * (ag - 1)).detach()
                x = (zin.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-zin))) + as_
        return x
