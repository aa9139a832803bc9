"""rt17 (fair): an MLP folded with functools.reduce over a generator of layer numbers, float64 parameters with a
He-style init (the grader loads its own weights), the Linear Function and the activation kept on self; sgd_step
over list(parameters) with p -= lr * p.grad and grads zeroed; train_epoch stacking detached losses.
Expected: full credit (held before this pass; kept as a regression)."""
import functools
import math

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.linear = functions.Linear
        self.act = functions.ReLU if activation == "relu" else functions.Sigmoid
        self.depth = len(sizes) - 1
        for d, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            w = torch.randn(n_out, n_in, dtype=torch.float64) * math.sqrt(2.0 / n_in)
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(w))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.full((n_out,), 0.01, dtype=torch.float64)))

    def _layer(self, x, d):
        z = self.linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
        return self.act.apply(z) if d < self.depth else z

    def forward(self, x):
        return functools.reduce(self._layer, (d for d in range(1, self.depth + 1)), x)


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in list(parameters):
            if p.grad is None:
                continue
            p -= lr * p.grad
            p.grad.zero_()


def train_epoch(model, batches, loss_fn, lr):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        losses.append(loss.detach())
        sgd_step(model.parameters(), lr)
    return float(torch.stack(losses).mean()) if losses else 0.0
