"""MLP (fair): a correct MLP that, after the real layers, also keeps the class probabilities and the hidden
layer's activations for a dashboard: two extra, detached calls of the given Functions (Sigmoid on the
logits, the activation on a copy of the last hidden layer) whose results never enter the output's graph
and whose backward never runs. Throw-away calls that change neither the output nor its gradients keep
full credit."""

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
        self.last_probabilities = None
        self.last_hidden = None

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        hidden = x
        for d in range(1, layers + 1):
            x = fns.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < layers:
                x = act.apply(x)
                hidden = x
        # for the dashboard only: detached, so autograd never sees these results
        self.last_probabilities = fns.Sigmoid.apply(x.detach())
        with torch.no_grad():
            self.last_hidden = act.apply(hidden.clone())
        return x
