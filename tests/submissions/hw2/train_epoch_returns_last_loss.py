"""train_epoch returns the last batch's loss instead of the mean over the epoch."""


def train_epoch(model, batches, loss_fn, lr):
    loss = None
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model.parameters(), lr)  # noqa: F821 (correct_base.py defines it)
    return loss.item()  # mistake: the mean of every batch's loss
