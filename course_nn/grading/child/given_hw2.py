"""The Functions the grader hands an hw2 MLP in place of the student's hw1 (child side): torch-backed
stand-ins for Linear, ReLU and Sigmoid whose every call adds its own shift (a function of its own
input) to its output and scales the gradients it sends back by a factor of the very gradient it got
(``mark``, ``gain``, from a seed the parent drew), so the parent can tell an output computed through
them from one computed beside them. Also which results the output's graph goes through (``reached``)
and how often each result's backward ran (``runs``): teaching signals; the parent's numbers decide.

Standard library and torch only (this file is copied into the sandbox).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MARKED = ("Linear", "ReLU", "Sigmoid")


def mark(seed: int, kind: str, k: int, n: int) -> tuple[float, float, torch.Tensor, float]:
    """The mark of the k-th call of ``kind`` (counted from the model's first forward) on an input with n
    features: a shift s + t·tanh(u·r) of every output row, from that row's input u, and a gain.

    Fresh per call and per input: a throw-away call (on zeros, or in backward) learns another call's
    mark, not the one the real layer's output must carry, so only the Function's own result, computed
    from the real input, has it. The parent draws the seed and recomputes every mark itself."""
    g = torch.Generator().manual_seed((int(seed) * 1_000_003 + MARKED.index(kind) * 7_919 + int(k)) % (1 << 62))
    u = torch.rand(5, generator=g, dtype=torch.float64).tolist()
    s = (0.1 + 0.2 * u[0]) * (1 if u[1] < 0.5 else -1)
    t = (0.1 + 0.2 * u[2]) * (1 if u[3] < 0.5 else -1)
    r = torch.randn(max(int(n), 1), generator=g, dtype=torch.float64) / max(int(n), 1) ** 0.5
    return s, t, r, 1.2 + 0.4 * u[4]


def gain(seed: int, kind: str, k: int, c: float):
    """The k-th call's backward factor for the upstream gradient g it gets: c·(1 + ½·tanh(⟨g, q⟩ / |g|)),
    q drawn for that call and g's size.

    A function of the real g, not a constant: a probe through the call's backward with any other
    upstream gradient (ones, zeros, another call's) measures another factor, so gradients that come
    back right were sent through this call's backward with the real upstream gradient."""
    key = (int(seed) * 1_000_003 + MARKED.index(kind) * 7_919 + int(k) + 104_729) % (1 << 62)

    def of(g: torch.Tensor) -> float:
        flat = g.detach().reshape(-1).to(torch.float64)
        norm = float(flat.norm())
        if not math.isfinite(norm) or norm == 0.0:
            return c
        q = torch.randn(flat.numel(), generator=torch.Generator().manual_seed(key), dtype=torch.float64)
        return c * (1 + 0.5 * math.tanh(float(flat @ q) / norm))

    return of


def fields(seed: int, kind: str, k: int):
    """The k-th call's per-entry factors, one field for each gradient its backward sends (``which``: 0 the
    input's, 1 the weight's, 2 the bias's), shaped like that gradient: 1 + ¼·tanh(n), n drawn for that call,
    that gradient and its shape.

    The gain is one number per call; a file could learn it from one gradient (a tap of its own on the bias)
    and scale gradients it computed itself. With a field per gradient, what one gradient shows says nothing
    of another's: right gradients are the very ones each call's backward sent."""
    key = (int(seed) * 1_000_003 + MARKED.index(kind) * 7_919 + int(k) + 611_953) % (1 << 62)

    def of(which: int, like: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed((key * 31 + which * 1_000_033 + like.numel()) % (1 << 62))
        n = torch.randn(like.numel(), generator=g, dtype=torch.float64).reshape(like.shape)
        return (1 + 0.25 * torch.tanh(n)).to(like.dtype)

    return of


def _unit(g: torch.Tensor) -> float:
    return 1.0


def _flat(which: int, like: torch.Tensor) -> float:
    return 1.0


def _shift(u: torch.Tensor, m) -> torch.Tensor:
    s, t, r, _ = m
    return s + t * torch.tanh((u * r.to(u.dtype)).sum(-1, keepdim=True))


class _GivenLinear(torch.autograd.Function):
    """F.linear plus a call's shift; backward scales every gradient by its gain (see ``mark``, ``gain``)."""

    @staticmethod
    def forward(ctx, x, weight, bias, shift, factor, field, tick):
        ctx.save_for_backward(x, weight)
        ctx.gain, ctx.field, ctx.has_bias, ctx.tick = factor, field, bias is not None, tick
        return F.linear(x, weight, bias) + shift

    @staticmethod
    def backward(ctx, g):
        ctx.tick()
        x, weight = ctx.saved_tensors
        k = ctx.gain(g)
        grad_x = k * g.matmul(weight)
        grad_w = k * g.reshape(-1, g.shape[-1]).t().matmul(x.reshape(-1, x.shape[-1]))
        grad_b = k * g.reshape(-1, g.shape[-1]).sum(0) if ctx.has_bias else None
        grad_x, grad_w = grad_x * ctx.field(0, grad_x), grad_w * ctx.field(1, grad_w)
        grad_b = grad_b * ctx.field(2, grad_b) if grad_b is not None else None
        return grad_x, grad_w, grad_b, None, None, None, None


class _GivenActivation(torch.autograd.Function):
    """ReLU or sigmoid plus a call's shift; backward scales the gradient by its gain."""

    @staticmethod
    def forward(ctx, z, relu, shift, factor, field, tick):
        out = torch.relu(z) if relu else torch.sigmoid(z)
        ctx.save_for_backward(z if relu else out)
        ctx.relu, ctx.gain, ctx.field, ctx.tick = relu, factor, field, tick
        return out + shift

    @staticmethod
    def backward(ctx, g):
        ctx.tick()
        (saved,) = ctx.saved_tensors
        local = (saved > 0).to(g.dtype) if ctx.relu else saved * (1 - saved)
        grad = ctx.gain(g) * g * local
        return grad * ctx.field(0, grad), None, None, None, None, None


def _counter(calls: dict, kind: str, k: int):
    """What the k-th marked call of ``kind`` runs when its backward does: counted in total (the probe
    reads the total right after the model's first forward: any there were ran while the model was built or
    in forward, a decoy measuring the gains through a throw-away backward) and per call, for the whole
    probe (``runs``: autograd runs each result's backward once per loss; a second run — a gain measured
    through the result's own backward, or a second backward — makes two)."""
    runs = calls.setdefault("runs", {}).setdefault(kind, [])
    if len(runs) < 64:
        runs.append(0)
    index = len(runs) - 1

    def tick() -> None:
        calls["backward"] = calls.get("backward", 0) + 1
        if index == k:
            runs[index] += 1

    return tick


def runs(calls: dict) -> dict:
    """How often each marked call's backward ran so far, per kind, in call order (the first 64 calls)."""
    return {kind: list(n) for kind, n in (calls.get("runs") or {}).items()}


def counts(calls: dict) -> dict:
    """The ``.apply`` calls of each kind and the backward runs in total (``runs`` has them per call)."""
    return {k: v for k, v in calls.items() if k != "runs"}


def forget_calls(calls: dict, perturb: dict | None = None) -> None:
    """Count ``.apply`` calls from here on (those of ``__init__`` do not count, and got no marks); backward
    runs stay counted. The marks start here: the k-th call of each Function from now on gets mark k."""
    for name in MARKED:
        calls.pop(name, None)
    calls.pop("runs", None)
    if perturb is not None:
        perturb["on"] = True


def _linear_args(x, weight, bias=None):
    return x, weight, bias


def _kept(j: int, skipped) -> int:
    """The j-th call number (from 0) not in ``skipped``: the mark the parent's j-th call gets when it stands
    for a model whose ``skipped`` calls were throw-aways (see ``torch_functions``)."""
    k = -1
    for _ in range(j + 1):
        k += 1
        while k in skipped:
            k += 1
    return k


def torch_functions(calls: dict, perturb: dict | None = None, nodes: list | None = None):
    """A stand-in for the student's hw1 module: torch's built-ins behind ``.apply``, counted.

    ``perturb`` ({"seed": ..., optional "shift" / "gain": the kinds that get them}, drawn per case by the
    parent, and used while ``perturb.get("on", True)``) gives each call a mark (``mark``): a shift added
    to its output, from its own input, and a gain and per-entry fields on the gradients it sends back. The
    parent's own copies may also take "skip" ({kind: call numbers}): the marks of the model's throw-away
    calls, which its j-th call passes over (the child's never do). An output (and
    gradients) built through the Functions handed in carries every call's mark, one computed beside
    them does not, and the parent computes what it must be. ``nodes`` collects (kind, grad_fn) of
    every marked result, for ``reached``. Named like the handout's ``TorchFunctions``, so an error
    message names nothing of the grader's."""
    def active(name: str, u: torch.Tensor):
        if perturb is None or not perturb.get("on", True):
            return None
        k = _kept(calls[name] - 1, (perturb.get("skip") or {}).get(name, ()))
        m = mark(perturb["seed"], name, k, u.shape[-1] if u.dim() else 1)
        shift = _shift(u, m) if name in perturb.get("shift", MARKED) else torch.zeros((), dtype=u.dtype)
        gained = name in perturb.get("gain", MARKED)
        factor = gain(perturb["seed"], name, k, m[3]) if gained else _unit
        field = fields(perturb["seed"], name, k) if gained else _flat
        return shift.detach(), factor, field, _counter(calls, name, calls[name] - 1)

    def keep(name: str, out):
        if nodes is not None and len(nodes) < 4096 and out.grad_fn is not None:
            nodes.append((name, calls[name] - 1, out.grad_fn))
        return out

    def linear(*args, **kwargs):
        calls["Linear"] = calls.get("Linear", 0) + 1
        x, weight, bias = _linear_args(*args, **kwargs)
        p = active("Linear", x)
        return F.linear(x, weight, bias) if p is None else keep("Linear", _GivenLinear.apply(x, weight, bias, *p))

    def activation(name: str, relu: bool):
        def apply(z):
            calls[name] = calls.get(name, 0) + 1
            p = active(name, z)
            if p is None:
                return torch.relu(z) if relu else torch.sigmoid(z)
            return keep(name, _GivenActivation.apply(z, relu, *p))

        return apply

    ns = {"Linear": type("Linear", (), {"apply": staticmethod(linear)}),
          "ReLU": type("ReLU", (), {"apply": staticmethod(activation("ReLU", True))}),
          "Sigmoid": type("Sigmoid", (), {"apply": staticmethod(activation("Sigmoid", False))})}
    return type("TorchFunctions", (), ns)


def reached(out, nodes: list) -> dict:
    """Which of each kind's marked results (by call, the first 64) the output's autograd graph goes
    through (a result detached, discarded or computed beside is not in it). Teaching, not the
    boundary: the parent's own numbers are."""
    wanted = {id(node): (kind, k) for kind, k, node in nodes}
    found: dict = {kind: [] for kind in MARKED}
    start = out.grad_fn if type(out) is torch.Tensor else None
    stack, seen = ([start] if start is not None else []), {}
    while stack and len(seen) < 100_000:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node  # held, so no other node takes its id
        if id(node) in wanted:
            kind, k = wanted[id(node)]
            if len(found[kind]) < 64:
                found[kind].append(k)
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return found
