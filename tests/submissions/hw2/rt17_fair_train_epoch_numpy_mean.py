"""rt17 (fair): train_epoch averages the batch losses with numpy: np.mean returns numpy.float64, a subclass of
Python's float with the right value. The probe read only exact ints, floats and one-element tensors, so the loss
came back as nothing and train_epoch lost every case. Expected: full credit."""

import numpy as np


def train_epoch(model, batches, loss_fn, lr):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model.parameters(), lr)
        losses.append(loss.item())
    return np.mean(losses)
