# rt9 (crash): a correct step whose cleared gradient is a zero tensor of a subclass of the file's own. The
# child reports a tensor subclass as a string (probe_hw2.plain); the parent's check then compares that string
# with 0 ("still set after the step?"). Refused by the gate before it runs: a tensor base class and
# .as_subclass are outside the language (held).
import torch


class _Cleared(torch.Tensor):
    pass


def sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is None:
                continue
            p.sub_(lr * p.grad)
            p.grad = torch.zeros_like(p).as_subclass(_Cleared)
