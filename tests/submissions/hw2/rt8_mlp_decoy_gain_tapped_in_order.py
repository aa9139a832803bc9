"""MLP (hostile): every layer's gradient is computed with primitives. Each given Function is called once per
layer, on the layer's real input, and its result y is the layer's output value (own + y - own.detach()), so
every mark's shift is in the output and autograd runs y's backward once, with the real upstream gradient g:
the per-call run count is 1, the result is reached, the call count is right. But y's inputs are a detached
copy of x and W, and a tap (a Function of the file's own) on its bias (Linear) or input (activation) that
stores the gradient y's backward sends and returns nothing. The primitives' gradient goes through the file's
own _Gain, created *before* the tap and y: autograd runs ready nodes newest first, so y's backward and the
tap have run when _Gain's backward runs, and _Gain scales g by the gain the tap saw (the given backward's
factor at the real g). Output and gradients are exactly the marked MLP's; the given Functions' backward
results are thrown away (as in mlp_decoy_gain_at_the_real_gradient.py, without its second run)."""

import math

import torch


class _Tap(torch.autograd.Function):
    """Identity forward; backward keeps the gradient it gets in ``box`` and sends nothing on."""

    @staticmethod
    def forward(ctx, t, box):
        ctx.box = box
        return t.clone()

    @staticmethod
    def backward(ctx, g):
        ctx.box.append(g.detach())
        return None, None


class _Gain(torch.autograd.Function):
    """Identity forward; backward multiplies g by the ratio of what the tap saw to ``plain(g)``."""

    @staticmethod
    def forward(ctx, t, box, plain):
        ctx.box, ctx.plain = box, plain
        return t.clone()

    @staticmethod
    def backward(ctx, g):
        want = ctx.plain(g)
        got = ctx.box[-1] if ctx.box else want
        den = float((want * want).sum())
        k = float((got * want).sum()) / den if den > 0 else 1.0
        return g * k, None, None


def _bias_grad(g):
    return g.reshape(-1, g.shape[-1]).sum(0)


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.sizes, self.activation, self.functions = list(sizes), activation, functions
        for d, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(n_in)
            setattr(self, f"weight_{d}", torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)))
            setattr(self, f"bias_{d}", torch.nn.Parameter(torch.zeros(n_out)))

    def forward(self, x):
        fns = self.functions
        act = fns.ReLU if self.activation == "relu" else fns.Sigmoid
        layers = len(self.sizes) - 1
        for d in range(1, layers + 1):
            w, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            box = []
            own = _Gain.apply(x @ w.t() + b, box, _bias_grad)  # created first: its backward runs last
            y = fns.Linear.apply(x.detach(), w.detach(), _Tap.apply(b, box))
            x = own + y - own.detach()
            if d < layers:
                box = []
                if self.activation == "relu":
                    plain, slope = x.clamp(min=0), (x > 0).to(x.dtype).detach()
                else:
                    plain = 1 / (1 + torch.exp(-x))
                    slope = (plain * (1 - plain)).detach()
                own = _Gain.apply(plain, box, lambda g, s=slope: g * s)
                a = act.apply(_Tap.apply(x, box))
                x = own + a - own.detach()
        return x
