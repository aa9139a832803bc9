"""rt17 (hostile, a check that must keep holding after this pass's fix): an MLP that is a torch.nn.Sequential of
torch.nn.Linear layers, with the activation of the file's own module calling the given Function between them.
The contract no longer flags a Sequential by itself (a container of the file's own modules is honest); the
torch.nn.Linear inside is still named, and the numbers (no Linear marks) give the MLP nothing."""

import torch


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
            layers.append(torch.nn.Linear(n_in, n_out))
            if d < len(sizes) - 1:
                layers.append(Activation(act))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
