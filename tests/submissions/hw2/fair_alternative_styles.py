"""Fairness (hw2): correct code written differently from the reference.

count_parameters with a generator, perceptron_predict through torch.where, an MLP whose parameters
live in a ParameterList (same order: weight_1, bias_1, weight_2, ...), sgd_step that zeroes the
gradients instead of dropping them, and train_epoch that collects the losses in a list. Expected:
full credit."""

import math

import torch


def count_parameters(layer_sizes):
    return int(sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:])))


def perceptron_predict(X, w, b):
    z = X @ w + b
    return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions = functions
        self.activation = activation
        params = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            std = math.sqrt(2.0 / n_in)
            params += [torch.nn.Parameter(torch.randn(n_out, n_in) * std), torch.nn.Parameter(torch.zeros(n_out))]
        self.params = torch.nn.ParameterList(params)

    def forward(self, x):
        act = self.functions.ReLU if self.activation == "relu" else self.functions.Sigmoid
        n_layers = len(self.params) // 2
        for d in range(n_layers):
            x = self.functions.Linear.apply(x, self.params[2 * d], self.params[2 * d + 1])
            if d + 1 < n_layers:
                x = act.apply(x)
        return x


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)
                p.grad.zero_()


def train_epoch(model, batches, loss_fn, lr):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model.parameters(), lr)
        losses.append(loss.item())
    return sum(losses) / len(losses)
