"""Hostile part, appended to the untouched hw2 stub: every task returns constants of the right types and
shapes (zeros, ones, its input times 0), the MLP runs its layers through the given Functions and multiplies
by 0, sgd_step and train_epoch do nothing. Every contract check passed and a few edge cases matched the
constants by chance: 9.8 of 100 points for no work."""

import torch


def count_parameters(layer_sizes):
    return 0


def perceptron_predict(X, w, b):
    return torch.ones(X.shape[0], dtype=X.dtype)


def perceptron_train(X, y, epochs):
    return torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype)


def xor_perceptrons():
    return {"w_A": torch.zeros(2), "b_A": 0.0, "w_B": torch.zeros(2), "b_B": 0.0, "w_C": torch.zeros(2), "b_C": 0.0}


def relu_interpolant(knots_x, knots_y):
    n = knots_x.shape[0] - 1
    z = torch.zeros(n, dtype=torch.float64)
    return z, z.clone(), z.clone(), torch.zeros((), dtype=torch.float64)


def step_approximation(f, lo, hi, tol, lipschitz):
    z = torch.zeros(1, dtype=torch.float64)
    return z, z.clone(), z.clone(), torch.zeros((), dtype=torch.float64)


def collapse_linear(weights, biases):
    return torch.zeros(weights[-1].shape[0], weights[0].shape[1]), torch.zeros(weights[-1].shape[0])


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions, self.depth = functions, len(sizes) - 1
        for d in range(1, len(sizes)):
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(torch.zeros(sizes[d], sizes[d - 1])))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        for d in range(1, self.depth + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")) * 0
            if d < self.depth:
                x = self.functions.ReLU.apply(x) * 0
        return x


def sgd_step(parameters, lr):
    return None


def train_epoch(model, batches, loss_fn, lr):
    return 0.0


def feature_map(X):
    return X * 0
