"""MLP (fair): a correct MLP that, for a dashboard, records before the layers how much of the raw input the
activation lets through: one detached call of the activation on the input, whose result never enters the
output's graph and whose backward never runs (as fair_mlp_logs_probabilities.py, but before the layers
instead of after them). The layers themselves are exactly Linear, activation, ..., Linear through the
given Functions."""

import math

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes, self.activation, self.functions = list(sizes), activation, functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))
        self.input_passed = None

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        with torch.no_grad():  # for the dashboard only: what the activation would make of the raw input
            self.input_passed = float(act.apply(x.detach()).mean())
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < layers:
                x = act.apply(x)
        return x
