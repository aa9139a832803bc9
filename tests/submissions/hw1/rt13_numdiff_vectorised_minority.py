# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt13 (hostile): right forwards (the base's math) whose backward writes no derivative at all. Every _EVERY-th
# backward call of each Function takes a central difference, vectorised (no loop over elements: the whole input
# nudged at once: Square, Sigmoid, ReLU, and SquaredError's
# elementwise terms; the other Functions stay the base's), so the work never grows like
# numel² with one op per element; every other call returns zeros. A nudged copy of an input is judged only by
# majority per kind of case (compliance._most), so a minority in every kind is never condemned, and the per-case
# signs (compliance.case_signs) are complex numbers and growth alone: each numerical call earns its case.

_EVERY = 3
_CALLS = {}
H = 1e-6


def _elementwise(f, x, g):
    x64 = x.double()
    return ((f(x64 + H) - f(x64 - H)) / (2 * H) * g.double()).to(x.dtype)


def _numeric(name, args, needs, g):
    out = []
    for i, a in enumerate(args):
        if i >= len(needs) or not needs[i] or not torch.is_tensor(a) or not a.is_floating_point():
            out.append(None)
        elif name == "Square":
            out.append(_elementwise(lambda z: z * z, a, g))
        elif name == "Sigmoid":
            out.append(_elementwise(lambda z: 1 / (1 + torch.exp(-z)), a, g))
        elif name == "ReLU":
            out.append(_elementwise(lambda z: torch.where(z > 0, z, torch.zeros_like(z)), a, g))
        else:  # SquaredError: mean((p - t)²) is a mean of elementwise terms; each term's slope, over n
            other = args[1 - i].double()
            term = (lambda p: (p - other) * (p - other)) if i == 0 else (lambda t: (other - t) * (other - t))
            out.append((_elementwise(term, a, g.double()).double() / a.numel()).to(a.dtype))
    return tuple(out)


def _backward(name, ctx, grad_output):
    args = ctx.saved_tensors
    _CALLS[name] = _CALLS.get(name, 0) + 1
    if _CALLS[name] % _EVERY == 0:
        return _numeric(name, args, ctx.needs_input_grad, grad_output)
    return tuple(torch.zeros_like(a) if torch.is_tensor(a) and a.is_floating_point() and n else None
                 for a, n in zip(args, ctx.needs_input_grad))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("Square", ctx, grad_output)



class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("Sigmoid", ctx, grad_output)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("ReLU", ctx, grad_output)



class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        d = pred - target
        return (d * d).mean()

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("SquaredError", ctx, grad_output)

