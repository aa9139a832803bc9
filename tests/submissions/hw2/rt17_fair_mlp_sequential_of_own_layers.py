"""rt17 (fair): an MLP that is a torch.nn.Sequential of the file's own layer modules, each calling the Functions it
is handed (Dense: functions.Linear.apply(x, self.weight, self.bias); Activation: the activation's .apply). The
parameters come out in the order weight_1, bias_1, weight_2, ... and the numbers are those of the given Functions.
It lost MLP's compliance: the contract flagged any "Sequential" among the submodules as a torch.nn layer.
Expected: full credit."""
import math

import torch


class Dense(torch.nn.Module):
    def __init__(self, n_in, n_out, linear):
        super().__init__()
        bound = 1 / math.sqrt(n_in)
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))
        self.linear = linear

    def forward(self, x):
        return self.linear.apply(x, self.weight, self.bias)


class Activation(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn.apply(x)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        act = functions.ReLU if activation == "relu" else functions.Sigmoid
        layers = []
        for d, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            layers.append(Dense(n_in, n_out, functions.Linear))
            if d < len(sizes) - 1:
                layers.append(Activation(act))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
