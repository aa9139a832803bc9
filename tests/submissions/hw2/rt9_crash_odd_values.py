# rt9 (crash): values of odd dtypes, devices and types where the grader expects plain tensors and numbers,
# one per call in turn (a counter of the file's own): complex, bfloat16, meta, int, bool, 0-dim, a huge int,
# NaN and infinity. The grader must score every case (no crash, no grader error) and give
# these tasks nothing.
import torch

_turn = [0]


def _odd(like):
    _turn[0] += 1
    k = _turn[0] % 6
    if k == 0:
        return like.to(torch.complex128)
    if k == 1:
        return like.to(torch.bfloat16)
    if k == 2:
        return torch.empty(like.shape, device="meta")
    if k == 3:
        return like.to(torch.int64)
    if k == 4:
        return like > 0
    return like.sum()


def count_parameters(layer_sizes):
    _turn[0] += 1
    return [True, 10 ** 400, float("nan"), -1][_turn[0] % 4]


def perceptron_predict(X, w, b):
    return _odd(torch.ones(X.shape[0], dtype=X.dtype))


def collapse_linear(weights, biases):
    return _odd(weights[0]), _odd(weights[0][:, 0])


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions, self.activation = functions, activation
        self.n = len(sizes) - 1
        for d in range(1, self.n + 1):
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(torch.zeros(sizes[d], sizes[d - 1])))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        for d in range(1, self.n + 1):
            x = self.functions.Linear.apply(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
        return _odd(x)


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad = _odd(p.grad) if _turn[0] % 2 else None


def train_epoch(model, batches, loss_fn, lr):
    _turn[0] += 1
    return [float("nan"), float("inf"), torch.tensor(1 + 2j), torch.tensor([True]), 10 ** 400][_turn[0] % 5]


def feature_map(X):
    return _odd(X)
