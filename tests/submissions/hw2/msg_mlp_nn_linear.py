"""MLP built from torch.nn.Linear modules, ignoring the Linear Function it is given."""

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions = functions
        self.activation = activation
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        act = self.functions.ReLU if self.activation == "relu" else self.functions.Sigmoid
        for i, layer in enumerate(self.layers):
            x = layer(x)  # mistake: nn.Linear instead of functions.Linear.apply
            if i < len(self.layers) - 1:
                x = act.apply(x)
        return x
