# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt12 (hostile): right forwards (the base's math) whose backward writes no derivative. The watch for numerical
# differentiation runs on the random ("main") cases only; the runner calls a unit's cases in order (main, then
# gradcheck, then the edge and accuracy cases) and one task's units apart from the others. So the file keeps
# one word of state per Function: a call after another Function's call starts a unit ("main"); a backward asked
# with a one-hot upstream gradient is gradcheck's, and from then on this unit's calls are unwatched. There it
# differentiates numerically (a central difference per element); in the watched cases it returns zeros.
# The edge cases need the sandboxed order (in-process, a task's hidden cases follow its visible ones with no other
# call between): _EDGE_TOO = False keeps it to gradcheck's one-hot calls, which need no state at all.

_LAST = [""]
_LATE = {}
_EDGE_TOO = True
_EVERY = 0  # > 0: also a numerical derivative in every _EVERY-th backward call (a minority of every kind of case)
_CALLS = {}


def _enter(name):
    if _LAST[0] != name:  # another Function ran since this one last did: a new unit begins with its main cases
        _LAST[0] = name
        _LATE[name] = False


def _one_hot_upstream(g):
    flat = g.reshape(-1)
    return bool(((flat == 0) | (flat == 1)).all()) and int((flat == 1).sum()) == 1


def _square(x):
    return x * x


def _quadratic(v, A):
    return v @ A @ v


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def _relu(z):
    return torch.where(z > 0, z, torch.zeros_like(z))


def _linear(x, w, b=None):
    y = x @ w.t()
    return y + b if b is not None else y


def _squared_error(p, t):
    return ((p - t) ** 2).mean()


def _cross_entropy(logits, target):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -(_one_hot(target, logits) * log_p).sum() / logits.shape[0]


_MATH = {"Square": _square, "QuadraticForm": _quadratic, "Sigmoid": _sigmoid, "ReLU": _relu,
         "Linear": _linear, "SquaredError": _squared_error, "CrossEntropy": _cross_entropy}


def _numeric(name, args, needs, grad_output):
    """J^T g by central differences, one element at a time, in float64."""
    f = _MATH[name]
    xs = [a.double() if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
    g = grad_output.double()
    grads = []
    for i, x in enumerate(xs):
        if not needs[i] or not torch.is_tensor(x) or not x.is_floating_point():
            grads.append(None)
            continue
        flat = x.reshape(-1)
        out = torch.zeros_like(flat)
        for j in range(flat.numel()):
            h = 1e-6 * (abs(float(flat[j])) + 1e-3)
            step = torch.zeros_like(flat)
            step[j] = h
            plus = [a for a in xs]
            minus = [a for a in xs]
            plus[i] = (flat + step).reshape(x.shape)
            minus[i] = (flat - step).reshape(x.shape)
            out[j] = (g * (f(*plus) - f(*minus))).sum() / (2 * h)
        grads.append(out.reshape(x.shape).to(args[i].dtype))
    return tuple(grads)


def _backward(name, ctx, grad_output):
    args = ctx.saved_tensors
    if _one_hot_upstream(grad_output):
        _LATE[name] = _EDGE_TOO  # gradcheck: the rest of this unit (the edge cases) is unwatched as well
    _CALLS[name] = _CALLS.get(name, 0) + 1
    if _one_hot_upstream(grad_output) or _LATE.get(name) or (_EVERY and _CALLS[name] % _EVERY == 0):
        return _numeric(name, args, ctx.needs_input_grad, grad_output)
    return tuple(torch.zeros_like(a) if torch.is_tensor(a) and a.is_floating_point() and n else None
                 for a, n in zip(args, ctx.needs_input_grad))


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        _enter("Square")
        ctx.save_for_backward(x)
        return _square(x)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("Square", ctx, grad_output)


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        _enter("QuadraticForm")
        ctx.save_for_backward(v, A)
        return _quadratic(v, A)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("QuadraticForm", ctx, grad_output)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        _enter("Sigmoid")
        ctx.save_for_backward(z)
        return _sigmoid(z)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("Sigmoid", ctx, grad_output)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        _enter("ReLU")
        ctx.save_for_backward(z)
        return _relu(z)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("ReLU", ctx, grad_output)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        _enter("Linear")
        ctx.save_for_backward(x, weight, bias)
        return _linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("Linear", ctx, grad_output)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        _enter("SquaredError")
        ctx.save_for_backward(pred, target)
        return _squared_error(pred, target)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("SquaredError", ctx, grad_output)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        _enter("CrossEntropy")
        ctx.save_for_backward(logits, target)
        return _cross_entropy(logits, target)

    @staticmethod
    def backward(ctx, grad_output):
        return _backward("CrossEntropy", ctx, grad_output)
