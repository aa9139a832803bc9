"""Fairness (hw2): a Sequential-like MLP — forward runs a list of steps (closures over the given
Functions) over the input, with bias passed by keyword. Expected: full credit."""

import math

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.params = torch.nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(n_in)
            self.params.append(torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            self.params.append(torch.nn.Parameter(torch.zeros(n_out)))
        self.functions = functions
        self.activation = activation

    def steps(self):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        n = len(self.params) // 2
        out = []
        for d in range(n):
            w, b = self.params[2 * d], self.params[2 * d + 1]
            out.append(lambda x, w=w, b=b: fns.Linear.apply(x, w, bias=b))
            if d < n - 1:
                out.append(act.apply)
        return out

    def forward(self, x):
        for step in self.steps():
            x = step(x)
        return x
