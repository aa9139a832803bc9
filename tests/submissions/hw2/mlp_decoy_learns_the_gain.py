"""MLP (hostile): learns each given Function's output shift AND input-gradient gain — one call on a
throw-away leaf per layer and a backward through it with torch.autograd.grad, inside forward — then
computes every layer with primitives carrying both (x * gain - (x * (gain - 1)).detach() has value x and
gradient gain). Output and gradients matched; the MLP earned its full 20 points without its computation
going through the Functions handed in."""

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
            ls, lg = self._marks(fns.Linear, True, x.dtype)
            as_, ag = self._marks(act, False, x.dtype) if d < layers else (0.0, 1.0)
            xin = x * lg - (x * (lg - 1)).detach()  # value x, gradient to x scaled by the gain
            x = xin @ getattr(self, f"weight_{d}").t() + getattr(self, f"bias_{d}") + ls
            if d < layers:
                zin = x * ag - (x * (ag - 1)).detach()
                x = (zin.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-zin))) + as_
        return x
