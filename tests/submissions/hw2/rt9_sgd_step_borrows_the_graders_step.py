# rt9 (hostile): sgd_step does no work of its own. The child grades train_epoch with the grader's own sgd_step
# patched into this module (probe_hw2._probe_train_epoch), and every task's visible cases run before any hidden
# case in one child: the visible train_epoch cases run before the hidden sgd_step cases. train_epoch keeps the
# step it finds under the name sgd_step; sgd_step hands its work to that step once it has one.

_steps = []


def train_epoch(model, batches, loss_fn, lr):
    step = sgd_step  # the grader's reference while train_epoch is graded
    if step is not _own_step:
        _steps.append(step)
    total, count = 0.0, 0
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        step(model.parameters(), lr)
        total += loss.item()
        count += 1
    return total / max(count, 1)


def sgd_step(parameters, lr):
    if _steps:
        return _steps[0](parameters, lr)
    raise NotImplementedError("sgd_step is not implemented yet (hw2 task 9)")


_own_step = sgd_step
