"""Whether the MLP's computation runs through the Functions handed to it (hw2 task 8).

Counting ``.apply`` calls cannot tell a model built from the Functions from one that calls each once
on a throw-away tensor and computes its output with primitives. So the Functions handed in are
marked: for each case the parent draws a seed, and every call of the child's stand-ins
(``given_hw2.torch_functions``) adds a shift to its output — drawn for that call, and a function of
that call's own input rows — and scales the gradients it sends back by that call's gain, a function
of the gradient it gets. A call on zeros, or a second call in backward, learns another call's mark,
never the one a layer's output must carry; a gain measured through a backward with another gradient
is the wrong one. The parent computes here, with the very same stand-ins, what output and gradients an MLP
built from them must return: an output computed beside the Functions lacks the shifts; gradients
that bypass them lack the gains. Which marks are missing says which Function was bypassed, and that
is what the student reads. The child also reports which marked results the output's autograd graph
goes through (``unreached``): the first, plainest message for a result detached or thrown away; the
numbers here stay the boundary, whatever that report says.
"""

from __future__ import annotations

import torch

from course_nn.grading.hw2.common import allclose, rand_int

KINDS = ("Linear", "ReLU", "Sigmoid")


def draw(g: torch.Generator) -> dict:
    """The seed of one case's marks (``given_hw2.mark``: every call's shift and gain come from it)."""
    return {"seed": rand_int(g, 0, 2**30)}


def functions(case: dict, shifts: tuple[str, ...] = KINDS, gains: tuple[str, ...] = KINDS, skip: dict | None = None):
    """Fresh Functions as the child handed the MLP for ``case`` (call counts from zero), with only the
    given kinds' shifts and gains; ``skip`` ({kind: call numbers}): the marks of throw-away calls, passed over."""
    from course_nn.grading.child.given_hw2 import torch_functions

    return torch_functions({}, {**(case.get("perturb") or {}), "shift": tuple(shifts), "gain": tuple(gains),
                                "skip": dict(skip or {})})


def forward(fns, weights: list, x: torch.Tensor, activation: str, variant: str = "") -> torch.Tensor:
    """The MLP through ``fns``: Linear, activation, ..., Linear (no activation after the last layer).

    ``variant`` computes a typical wrong forward instead, to name the mistake in feedback:
    "act_out" (activation on the output too), "no_last_bias", "no_bias", "no_act", "other_act".
    """
    act = fns.ReLU if (activation == "relu") != (variant == "other_act") else fns.Sigmoid
    n = len(weights) // 2
    for d in range(n):
        bias = weights[2 * d + 1]
        if variant == "no_bias" or (variant == "no_last_bias" and d == n - 1):
            bias = None
        x = fns.Linear.apply(x, weights[2 * d], bias)
        if (d < n - 1 and variant != "no_act") or variant == "act_out":
            x = act.apply(x)
    return x


def spiral_input(case: dict) -> torch.Tensor:
    """The spiral case's data-flow input: the first 8 training points (the probe's one marked forward)."""
    return case["x"][:8].float().double()


def expected(case: dict, fns=None) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """Output, parameter gradients and input gradient of the case's MLP built from ``fns`` (default:
    the Functions handed in, marks and all), in float64; a spiral case: on its first 8 points, from
    its initial weights, for the upstream gradient 1 (what probe_hw2 computes before training)."""
    fns = fns or functions(case)
    spiral = case.get("mode") == "spiral"
    ws = [w.detach().double().requires_grad_(True) for w in case["weights"]]
    x = (spiral_input(case) if spiral else case["x"].double()).requires_grad_(True)
    out = forward(fns, ws, x, case["activation"])
    upstream = torch.ones_like(out) if spiral else case["grad_output"].double()
    grads = torch.autograd.grad((out * upstream).sum(), [*ws, x])
    return out.detach(), [g.detach() for g in grads[:-1]], grads[-1].detach()


def _missing(case: dict, matches) -> list[str]:
    """The Functions whose marks are missing, when dropping exactly those explains what came back."""
    act = "ReLU" if case["activation"] == "relu" else "Sigmoid"
    for dropped in ((act,), ("Linear",), ("Linear", act)):
        if matches(tuple(k for k in KINDS if k not in dropped)):
            return list(dropped)
    return []


def bypassed_in_forward(case: dict, out: torch.Tensor, x: torch.Tensor | None = None,
                        rtol: float = 1e-6, atol: float = 1e-9) -> list[str]:
    """The Functions an output that misses the expected one was computed beside ([] when none explains it)."""
    x = case["x"].double() if x is None else x

    def matches(shifts):
        with torch.no_grad():
            want = forward(functions(case, shifts), [w.double() for w in case["weights"]], x, case["activation"])
        return allclose(out, want, rtol, atol)

    return _missing(case, matches)


def bypassed_in_backward(case: dict, grads: list, x_grad=None, rtol: float = 1e-6, atol: float = 1e-9) -> list[str]:
    """The Functions the gradients did not flow back through, when the output was right (``x_grad``
    None: the parameters' gradients alone)."""
    def matches(gains):
        _, want, want_x = expected(case, functions(case, gains=gains))
        pairs = list(zip(grads, want)) + ([(x_grad, want_x)] if x_grad is not None else [])
        return len(grads) == len(want) and all(isinstance(g, torch.Tensor) and allclose(g, w, rtol, atol)
                                               for g, w in pairs)

    return _missing(case, matches)


def _idle(r: dict, kind: str) -> set[int]:
    """The calls of ``kind`` whose backward never ran: throw-away calls (a value logged, a shape checked)."""
    return {k for k, n in enumerate((r.get("runs") or {}).get(kind) or []) if n == 0}


def throwaways(r: dict) -> dict[str, set[int]]:
    """Per kind, the calls whose backward never ran (see ``_idle``), where there are any."""
    return {kind: idle for kind in KINDS if (idle := _idle(r, kind))}


def counted(r: dict, kind: str, settled: bool = False) -> int:
    """The ``.apply`` calls of ``kind`` forward made, less the throw-away ones when the numbers are right."""
    return (r.get("calls") or {}).get(kind, 0) - (len(_idle(r, kind)) if settled else 0)


def unreached(case: dict, r: dict, settled: bool = False) -> list[str]:
    """The kinds some of whose results (of those forward called) the output's graph does not go through.

    ``settled``: the output and gradients are exactly those of an MLP built from the Functions handed in
    (the parent's numbers). A result outside the graph whose backward never ran then changed nothing — an
    extra call to log a value, say — and is excused; one whose backward ran beside the graph is not (a gain
    measured through a detached result)."""
    calls, found = r.get("calls") or {}, r.get("reached")
    if found is None:
        return []
    act = "ReLU" if case["activation"] == "relu" else "Sigmoid"
    out = []
    for kind in ("Linear", act):
        spare = set(found.get(kind) or []) | (_idle(r, kind) if settled else set())
        if any(k not in spare for k in range(calls.get(kind, 0))):
            out.append(kind)
    return out


def reran(case: dict, r: dict, settled: bool = False) -> str:
    """The line for results whose backward did not run exactly once for the one loss ("" when each did).

    A teaching signal beside the numbers: the factor each call's backward applies depends on the gradient
    it gets (``given_hw2.gain``), so gradients that come back right went through that call's backward with
    the real upstream gradient; a run more means the file also drove that backward itself (a gain measured
    through it, a second backward), or called a Function again once forward was done. ``settled`` (the
    numbers are right): a call whose backward never ran is a throw-away and is excused (see ``unreached``)."""
    calls, runs = r.get("calls") or {}, r.get("runs")
    if runs is None:
        return ""
    act = "ReLU" if case["activation"] == "relu" else "Sigmoid"
    for kind in ("Linear", act):
        counts, made = runs.get(kind) or [], calls.get(kind, 0)
        if len(counts) > made:
            return (f"functions.{kind}.apply was called {len(counts) - made} more time(s) after forward returned "
                    "(in backward); the supplied functions are called in forward only, once per layer")
        wrong = [n for n in counts if n != 1 and not (settled and n == 0)]
        if wrong:
            return (f"the backward of a functions.{kind}.apply result ran {wrong[0]} times for one loss; autograd "
                    "runs it once — do not call torch.autograd.grad or .backward() on the supplied functions' results "
                    "yourself (in forward or in a backward of your own)")
    return ""


UNEXPLAINED = ("the MLP's output is right but its gradients are not those of the supplied functions: keep every "
               "layer's .apply result in the autograd graph and let autograd alone run their backward")


def text(kinds: list[str], where: str) -> str:
    """The student's line: which of the Functions handed in the MLP computed beside."""
    names = " and ".join(f"functions.{k}.apply" for k in kinds)
    return (f"the MLP's {where} does not go through the supplied functions: {names} {'was' if len(kinds) == 1 else 'were'} "
            "called beside the computation (on other tensors, with the result detached or thrown away, or not at all) "
            "instead of carrying it — every layer's output must be what functions.Linear.apply(x, W, b) and the "
            "activation's .apply return on that layer's real input, kept in the autograd graph")
