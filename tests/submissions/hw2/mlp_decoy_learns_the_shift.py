"""MLP (hostile): learns what the given Functions add to their outputs by calling them on zeros, then
computes every layer with primitives plus those amounts — the output matches, but no gradient ever
flows back through the Functions handed in. It must earn nothing for the MLP's data flow."""

import math

import torch


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
        zero = torch.zeros(1, 1, dtype=x.dtype)
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            with torch.no_grad():  # one call per layer, as counted, on zeros: what does Linear add?
                shift = fns.Linear.apply(zero, torch.zeros(1, 1, dtype=x.dtype), None)
            x = x @ getattr(self, f"weight_{d}").t() + getattr(self, f"bias_{d}") + shift
            if d < layers:
                with torch.no_grad():
                    act_shift = act.apply(zero) - (0.0 if self.activation == "relu" else 0.5)
                x = (x.clamp(min=0) if self.activation == "relu" else 1 / (1 + torch.exp(-x))) + act_shift
        return x
