"""rt17 (fair): the activation picked from a dict of the given Functions, the parameters in a ParameterList
read back as (W, b) pairs by slicing; sgd_step under the @torch.no_grad() decorator through .data; train_epoch
with torch.autograd.grad and .grad set by hand. Expected: full credit (held before this pass; a regression)."""

import math

import torch


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.act = {"relu": functions.ReLU, "sigmoid": functions.Sigmoid}[activation]
        self.linear = functions.Linear
        self.weights = torch.nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            k = 1.0 / math.sqrt(n_in)
            self.weights.append(torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-k, k)))
            self.weights.append(torch.nn.Parameter(torch.empty(n_out).uniform_(-k, k)))

    def forward(self, x):
        ws = list(self.weights)
        layers = list(zip(ws[0::2], ws[1::2]))
        for i, (W, b) in enumerate(layers):
            x = self.linear.apply(x, W, b)
            x = self.act.apply(x) if i < len(layers) - 1 else x
        return x


@torch.no_grad()
def sgd_step(parameters, lr):
    for p in parameters:
        if p.grad is None:
            continue
        p.data -= lr * p.grad.data
        p.grad.data.zero_()


def train_epoch(model, batches, loss_fn, lr):
    params = list(model.parameters())
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads):
            p.grad = g
        sgd_step(iter(params), lr)
        losses.append(loss.item())
    return sum(losses) / len(losses)
