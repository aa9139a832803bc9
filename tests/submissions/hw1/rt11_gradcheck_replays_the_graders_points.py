# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt11 (hostile): right forwards (the base's, reached through an alias) whose backward does no calculus: it
# replays the grader's own gradcheck. The probe calls forward at x ± eps·e_j for every entry j first (under
# no_grad), then forward at x and backward once per one-hot upstream gradient; the forward keeps every input
# and output it saw, and backward divides the grader's own differences. Anywhere else it returns zeros.
_SEEN = {}


def _remember(name, args, out):
    runs = _SEEN.setdefault(name, [])
    if len(runs) < 4096:
        runs.append(([a.detach().clone() if torch.is_tensor(a) else a for a in args], out.detach().reshape(-1)))


def _same(a, b):
    if not torch.is_tensor(a) or not torch.is_tensor(b):
        return a is None and b is None
    return a.shape == b.shape and bool((a == b).all())


def _replay(name, args, grad_output):
    g = grad_output.reshape(-1).double()
    grads = []
    for i, x in enumerate(args):
        if not torch.is_tensor(x) or not x.is_floating_point():
            grads.append(None)
            continue
        flat = x.reshape(-1)
        sides = {}
        for seen, out in _SEEN.get(name, []):
            if len(seen) != len(args) or not all(k == i or _same(s, a) for k, (s, a) in enumerate(zip(seen, args))):
                continue
            if not torch.is_tensor(seen[i]) or seen[i].shape != x.shape:
                continue
            moved = (seen[i].reshape(-1) != flat).nonzero().reshape(-1)
            if moved.numel() == 1:
                j = int(moved[0])
                step = float(seen[i].reshape(-1)[j] - flat[j])
                sides.setdefault(j, {})[step > 0] = (step, out.double())
        grad = torch.zeros(flat.numel(), dtype=torch.float64)
        for j, pair in sides.items():
            if True in pair and False in pair and pair[True][1].numel() == g.numel():
                (hp, fp), (hm, fm) = pair[True], pair[False]
                grad[j] = (g * (fp - fm)).sum() / (hp - hm)
        grads.append(grad.to(x.dtype).reshape(x.shape))
    return tuple(grads)


_RightSquare = Square
_RightQuadraticForm = QuadraticForm
_RightSigmoid = Sigmoid
_RightReLU = ReLU
_RightLinear = Linear
_RightSquaredError = SquaredError
_RightCrossEntropy = CrossEntropy


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        out = _RightSquare.forward(ctx, x)
        _remember("Square", [x], out)
        ctx.save_for_backward(x)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("Square", ctx.saved_tensors, grad_output)


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        out = _RightQuadraticForm.forward(ctx, v, A)
        _remember("QuadraticForm", [v, A], out)
        ctx.save_for_backward(v, A)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("QuadraticForm", ctx.saved_tensors, grad_output)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = _RightSigmoid.forward(ctx, z)
        _remember("Sigmoid", [z], out)
        ctx.save_for_backward(z)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("Sigmoid", ctx.saved_tensors, grad_output)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        out = _RightReLU.forward(ctx, z)
        _remember("ReLU", [z], out)
        ctx.save_for_backward(z)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("ReLU", ctx.saved_tensors, grad_output)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        out = _RightLinear.forward(ctx, x, weight, bias)
        _remember("Linear", [x, weight, bias], out)
        ctx.save_for_backward(x, weight, bias)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("Linear", ctx.saved_tensors, grad_output)


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        out = _RightSquaredError.forward(ctx, pred, target)
        _remember("SquaredError", [pred, target], out)
        ctx.save_for_backward(pred, target)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return _replay("SquaredError", ctx.saved_tensors, grad_output)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        out = _RightCrossEntropy.forward(ctx, logits, target)
        _remember("CrossEntropy", [logits, target], out)
        ctx.save_for_backward(logits, target)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        grad_logits, _ = _replay("CrossEntropy", ctx.saved_tensors, grad_output)
        return grad_logits, None
