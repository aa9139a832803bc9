"""Fairness (hw2): the MLP as a ModuleList of small layer modules, each holding its weight and bias
and calling the given Linear Function; the activation is chosen from a dict of the given Functions
by name. Parameters still come out in the order weight_1, bias_1, weight_2, ... Expected: full credit."""

import math

import torch


class Layer(torch.nn.Module):
    def __init__(self, n_in, n_out, linear):
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))
        self.linear = linear

    def forward(self, x):
        return self.linear.apply(x, self.weight, self.bias)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.layers = torch.nn.ModuleList(Layer(a, b, functions.Linear) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = {"relu": functions.ReLU, "sigmoid": functions.Sigmoid}[activation]

    def forward(self, x):
        *hidden, last = self.layers
        for layer in hidden:
            x = self.act.apply(layer(x))
        return last(x)
