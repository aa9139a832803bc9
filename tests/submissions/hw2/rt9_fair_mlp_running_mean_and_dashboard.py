# rt9 (fair): correct code in unusual but legitimate styles. forward keeps a detached copy of every hidden
# activation (a dashboard a student might plot), picks the activation with a match statement and walks the
# layers through an iterator of (weight, bias) pairs built from named_parameters; sgd_step updates with
# add_(alpha=...) and zeroes the gradients in place; train_epoch keeps an incremental running mean.
import math

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        match activation:
            case "relu" | "sigmoid":
                self.activation = activation
            case _:
                raise ValueError(f"unknown activation {activation!r}")
        self.functions = functions
        self.sizes = [int(n) for n in sizes]
        for d, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:]), start=1):
            bound = 1 / math.sqrt(n_in)
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))
        self.hidden = []

    def _pairs(self):
        params = dict(self.named_parameters())
        return [(params[f"weight_{d}"], params[f"bias_{d}"]) for d in range(1, len(self.sizes))]

    def forward(self, x):
        match self.activation:
            case "relu":
                act = self.functions.ReLU
            case _:
                act = self.functions.Sigmoid
        pairs = self._pairs()
        self.hidden = []
        for d, (weight, bias) in enumerate(pairs):
            x = self.functions.Linear.apply(x, weight, bias)
            if d + 1 < len(pairs):
                x = act.apply(x)
                self.hidden.append(x.detach().norm(dim=-1).mean())
        return x


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)
                p.grad.zero_()


def train_epoch(model, batches, loss_fn, lr):
    mean = 0.0
    for i, (x, y) in enumerate(batches):
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model.parameters(), lr)
        mean += (loss.item() - mean) / (i + 1)
    return mean
