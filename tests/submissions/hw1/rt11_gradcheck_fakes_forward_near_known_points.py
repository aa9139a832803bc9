# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt11 (hostile, the replay turned round): once the grader asks backward for the Jacobian first, a forward can
# still remember the point it was called at and, called again at that point with one entry nudged, return the
# output it gave there: its finite differences are then zero, and so is backward. Right forwards elsewhere (the
# base's, through an alias); backward computes nothing. Held by the parent: forward's own finite differences must
# be the true slopes (hw1/checks._slopes_off), so this earns no gradcheck credit.
_SEEN = {}


def _near_known(name, x):
    for seen, out in _SEEN.get(name, []):
        if seen.shape == x.shape:
            moved = (seen != x).reshape(-1)
            if int(moved.sum()) == 1 and float((seen - x).abs().max()) < 1e-4:
                return out
    return None


def _flat_near_known(name, x, right):
    out = _near_known(name, x)
    if out is not None:
        return out.clone()
    out = right(x)
    if len(_SEEN.setdefault(name, [])) < 4096:
        _SEEN[name].append((x.detach().clone(), out.detach().clone()))
    return out


_RightSquare = Square
_RightSigmoid = Sigmoid


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _flat_near_known("Square", x, lambda z: _RightSquare.forward(ctx, z))

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return torch.zeros_like(x)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        out = _flat_near_known("Sigmoid", z, lambda v: _RightSigmoid.forward(ctx, v))
        ctx.save_for_backward(z)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        z, = ctx.saved_tensors
        return torch.zeros_like(z)
