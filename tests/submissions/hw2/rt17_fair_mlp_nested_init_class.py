# rt17 (fair, hw2): correct code whose MLP derives from a base Module of the file that defines a small nested
# helper class (an initialiser with its own state and methods), read through `self` in the subclass, and keeps
# a ParameterList subclass of its own beside it (ParameterDict is not listed since the twentieth pass). Every class of the family has the nested class as a class
# attribute, so torch.nn.Module's `__getattr__` never answers for it. Appended to the correct base: its MLP
# replaces the base's, full credit.
import math

import torch


class _Params(torch.nn.ParameterList):
    def numbered(self, d):
        return self[d - 1]


class _Base(torch.nn.Module):
    class Init:
        def __init__(self, n_in):
            self.n_in = n_in

        def bound(self):
            return 1 / math.sqrt(self.n_in)

        def uniform(self, n_out):
            b = self.bound()
            return torch.empty(n_out, self.n_in).uniform_(-b, b)


class MLP(_Base):
    def __init__(self, sizes, activation="relu", functions=TorchFunctions):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"unknown activation {activation!r}")
        self.activation, self.functions, self.depth = activation, functions, len(sizes) - 1
        self.params = _Params()
        for d in range(1, len(sizes)):
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(self.Init(sizes[d - 1]).uniform(sizes[d])))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        g = self.functions.ReLU if self.activation == "relu" else self.functions.Sigmoid
        for d in range(1, self.depth + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < self.depth:
                x = g.apply(x)
        return x
