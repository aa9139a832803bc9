"""Run a tiny network node by node, record every value and gradient, and compare with torch's.

Forward: each node's Function is applied to (copies of) the values it takes. Backward: walking the
nodes in reverse, each node's ``backward`` is called *directly* with the upstream gradient dJ/d(out)
its output has accumulated, and what it returns is recorded before it is added (``+=``) into the
gradient of each input. autograd never sees the result, so a bias gradient of shape (N, out) is
shown as it was returned instead of being summed silently.

torch's side runs the same nodes with the built-ins (F.linear, torch.sigmoid, ...) and autograd's
vector-Jacobian product per node. Each student node then gets a status:

  error     its forward or backward raised, or returned a wrong shape, a wrong count or a None
  wrong     given the very inputs and upstream gradient it received, it disagrees with torch, or its
            backward wrote into the upstream gradient or an input it was given (in place)
  inherits  it agrees with torch on what it received, but what it received already differed
            (or its backward was never reached because another node failed)
  ok        every value equals torch's
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from course_nn.grading import hw1
from course_nn.grading.feedback import (
    GRAD_OUTPUT_IN_PLACE,
    changed,
    close,
    index_text,
    input_in_place,
    mismatch,
    shape_text,
)
from course_nn.impl import ARGUMENTS, Functions, describe_failure, torch_functions
from course_nn.trace.nets import Add, Net, Node

RTOL, ATOL = 1e-6, 1e-9  # float64, as in course-nn compare
STATUSES = ("ok", "wrong", "inherits", "error")


@dataclass
class Grad:
    """One gradient a node returned, for its input ``tensor`` (hw1 argument ``arg``)."""

    tensor: str
    arg: str
    yours: Any = None          # what the node returned (a tensor, None, or anything else it returned)
    torch: torch.Tensor | None = None  # torch's, in the all-torch network
    local: torch.Tensor | None = None  # torch's for the inputs and upstream gradient *this* node received


@dataclass
class NodeTrace:
    """Everything recorded for one node, both sides, and the verdict."""

    node: Node
    inputs: list[Any] = field(default_factory=list)  # the values it received (student side)
    output: Any = None
    torch_output: torch.Tensor | None = None
    upstream: torch.Tensor | None = None              # dJ/d(output) it received
    torch_upstream: torch.Tensor | None = None
    grads: list[Grad] = field(default_factory=list)   # one per input that needs a gradient
    status: str = "ok"
    reason: str = ""        # one line: what is wrong, or what it inherits
    hint: str = ""          # the likely mistake, when one is recognised
    stage: str = ""         # "forward" or "backward": where a wrong or erroring node went wrong
    expected_output: torch.Tensor | None = None       # torch's forward on the inputs it received


@dataclass
class Trace:
    net: Net
    impl: str
    seed: int
    nodes: list[NodeTrace]  # forward order

    @property
    def backward_order(self) -> list[NodeTrace]:
        return self.nodes[::-1]

    @property
    def first_wrong(self) -> NodeTrace | None:
        """The first node, in backward order, that is wrong itself (status wrong or error)."""
        return next((t for t in self.backward_order if t.status in ("wrong", "error")), None)


# ----------------------------------------------------------------------------- running one side


def _is_function(fn: Any) -> bool:
    return isinstance(fn, type) and issubclass(fn, torch.autograd.Function)


def _vjp(fn: Callable, args: list[Any], out: torch.Tensor, upstream: torch.Tensor) -> list[Any]:
    """autograd's gradient of ``out`` for each arg that requires one (None for the others)."""
    wanted = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    got = iter(torch.autograd.grad(out, wanted, upstream, retain_graph=True, allow_unused=True) if wanted else [])
    return [next(got) if isinstance(a, torch.Tensor) and a.requires_grad else None for a in args]


def _apply(fn: Any, args: list[Any]) -> tuple[Any, Callable[[torch.Tensor], list[Any]]]:
    """Run one node forward; return its output and a function that runs its backward for an upstream
    gradient. A hand-written Function's ``backward`` is called directly on the node's ctx."""
    if _is_function(fn):
        out = fn.apply(*args)

        def backward(upstream: torch.Tensor) -> list[Any]:
            with torch.no_grad():  # as autograd (and the grader) call it: no graph of its own
                result = fn.backward(out.grad_fn, upstream)
            result = list(result) if isinstance(result, tuple) else [result]
            # saved inputs require grad, so a direct call may return tensors attached to a graph
            return [g.detach() if isinstance(g, torch.Tensor) else g for g in result]
        return out, backward
    out = fn(*args)
    return out, lambda upstream: _vjp(fn, args, out, upstream)


def _arguments(node: Node) -> tuple[str, ...]:
    return ARGUMENTS.get(node.op, ("u", "v"))


@dataclass
class _Run:
    """One side's raw record: node name -> values; ``errors`` holds one line per failed node."""

    inputs: dict[str, list[Any]] = field(default_factory=dict)
    needs: dict[str, list[bool]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    upstream: dict[str, torch.Tensor] = field(default_factory=dict)
    returned: dict[str, list[Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # node -> "forward" or "backward" (of an error)
    hints: dict[str, str] = field(default_factory=dict)
    args: dict[str, list[Any]] = field(default_factory=dict)  # the very tensors forward got (and may have saved)
    in_place: dict[str, tuple[str, str]] = field(default_factory=dict)  # node -> (reason, hint): its backward wrote into them


def _grader_hint(hint: Callable[..., str], *args: Any) -> str:
    """The autograder's likely-mistake text (course_nn.grading.hw1's public hints), so that trace and
    the grader say the same thing about the same mistake."""
    try:
        return hint(*args) or ""
    except Exception:  # noqa: BLE001 - a hint is a bonus; it must never hide the trace itself
        return ""


def _grad_problem(node: Node, i: int, got: Any, want: torch.Tensor) -> tuple[str, str] | None:
    """(one-line reason, hint) when a returned gradient cannot be used at all, else None."""
    arg, tensor = _arguments(node)[i], node.inputs[i]
    where = f"{node.op}.backward returned"
    if got is None:
        return (f"{where} None for `{arg}` ({tensor}), which needs a gradient "
                f"(ctx.needs_input_grad[{i}] is True)", "")
    if not isinstance(got, torch.Tensor):
        return f"{where} a {type(got).__name__} for `{arg}` ({tensor}), expected a tensor", ""
    if tuple(got.shape) != tuple(want.shape):
        hint = _grader_hint(hw1.shape_hint, node.op, arg, got, want)
        return f"{where} a gradient for `{arg}` ({tensor}) of shape {shape_text(got)}, expected {shape_text(want)} like {tensor}", hint
    if got.dtype != want.dtype:
        return (f"{where} a {got.dtype} gradient for `{arg}` ({tensor}), expected {want.dtype} like {tensor}",
                "a hard-coded dtype (torch.tensor(...), torch.ones(n)); build new tensors with zeros_like / new_ones")
    return None


def _output_problem(node: Node, out: Any, want: torch.Tensor | None) -> tuple[str, str] | None:
    """(one-line reason, hint) when a forward output cannot be passed on, else None."""
    if not isinstance(out, torch.Tensor):
        return f"{node.op}.forward returned a {type(out).__name__}, expected a tensor", ""
    if want is None:
        return None
    if tuple(out.shape) != tuple(want.shape):
        hint = "a loss is one number (0-dim): average over the batch" if want.dim() == 0 else ""
        return f"{node.op}.forward returned shape {shape_text(out)}, expected {shape_text(want)} like torch's", hint
    if out.dtype != want.dtype:
        return (f"{node.op}.forward returned {out.dtype} for {want.dtype} inputs",
                "a hard-coded dtype (torch.tensor(...), torch.zeros(n)); build new tensors with zeros_like / new_ones")
    return None


def run_side(net: Net, pick: Callable[[str], Any], fns: Functions | None = None,
             expected: dict[str, torch.Tensor] | None = None) -> _Run:
    """Forward through every node, then backward node by node from dJ/dJ = 1.

    ``pick(op)`` gives the Function (or built-in) for a node; ``fns`` names the student's Functions
    in error messages; ``expected`` (node -> torch's output) lets a forward of the wrong shape or
    dtype stop the run at the node that produced it. A failure ends the forward pass there; in the
    backward pass it withholds only the gradients it could not produce.
    """
    run, values, backs = _Run(), dict(net.leaves), {}
    for node in net.nodes:
        needs = [n in net.params or n not in net.leaves for n in node.inputs]
        args = [values[n].detach().clone().requires_grad_(need) for n, need in zip(node.inputs, needs)]
        run.inputs[node.name], run.needs[node.name] = [a.detach().clone() for a in args], needs
        run.args[node.name] = args
        try:
            out, backs[node.name] = _apply(pick(node.op), args)
        except Exception as err:  # noqa: BLE001 - a student's forward can raise anything
            run.errors[node.name] = _failure_line(fns, err, f"{node.op}.forward")
            run.stages[node.name] = "forward"
            return run
        problem = _output_problem(node, out, expected.get(node.name) if expected else None)
        if problem is not None:
            run.errors[node.name], run.hints[node.name] = problem
            run.stages[node.name] = "forward"
            run.outputs[node.name] = out.detach().clone() if isinstance(out, torch.Tensor) else None
            return run
        run.outputs[node.name] = out.detach().clone()
        values[node.output] = out.detach()
    _backward(net, run, backs, fns)
    return run


def _failure_line(fns: Functions | None, err: Exception, owner: str) -> str:
    failure = describe_failure(fns, err, fallback=True) if fns is not None else None
    return failure.line if failure is not None else f"{owner} raised {type(err).__name__}: {err}"


def _backward(net: Net, run: _Run, backs: dict[str, Callable], fns: Functions | None) -> None:
    loss = net.nodes[-1]
    grads: dict[str, torch.Tensor] = {loss.output: torch.ones_like(run.outputs[loss.name])}
    blocked: set[str] = set()  # values one of whose gradient contributions never arrived
    for node in reversed(net.nodes):
        if node.output in blocked or node.output not in grads:
            continue  # not reached: a node after it failed
        upstream = grads[node.output]
        run.upstream[node.name] = upstream.clone()
        run.stages[node.name] = "backward"  # read only if this node fails
        given = upstream.clone()  # a copy: an in-place edit cannot spoil the record, and is seen below
        before = [a.detach().clone() for a in run.args[node.name]]
        try:
            returned = backs[node.name](given)
        except Exception as err:  # noqa: BLE001
            run.errors[node.name] = _failure_line(fns, err, f"{node.op}.backward")
            blocked.update(node.inputs)
            continue
        _note_in_place(node, run, upstream, given, before)
        run.returned[node.name] = returned
        n = len(node.inputs)
        if len(returned) < n or any(g is not None for g in returned[n:]):
            names = ", ".join(_arguments(node))
            run.errors[node.name] = (f"{node.op}.backward returned {len(returned)} value(s) but forward takes {n} "
                                     f"inputs ({names}): return one gradient per input, None where there is none")
            blocked.update(node.inputs)
            continue
        for i, (name, need) in enumerate(zip(node.inputs, run.needs[node.name])):
            if not need:
                continue
            problem = _grad_problem(node, i, returned[i], run.inputs[node.name][i])
            if problem is not None:
                run.errors.setdefault(node.name, problem[0])
                run.hints.setdefault(node.name, problem[1])
                blocked.add(name)
                continue
            g = returned[i].detach()
            grads[name] = grads[name] + g if name in grads else g.clone()  # the lecture's +=


def _note_in_place(node: Node, run: _Run, upstream: torch.Tensor, given: torch.Tensor, before: list) -> None:
    """Record (reason, hint) when ``node``'s backward changed grad_output or an input in place: the
    hint is the grader's own line for that mistake."""
    if changed(upstream, given):
        run.in_place[node.name] = (f"{node.op}.backward changed dJ/d{node.output}, the upstream gradient "
                                   "(grad_output) it was given, in place", GRAD_OUTPUT_IN_PLACE)
        return
    for i, (was, arg) in enumerate(zip(before, run.args[node.name])):
        if changed(was, arg.detach()):
            run.in_place[node.name] = (f"{node.op}.backward changed its input {node.inputs[i]} in place",
                                       input_in_place(_arguments(node)[i]))
            return


# ----------------------------------------------------------------------------- comparing the sides


def _torch_pick(op: str) -> Any:
    return torch.add if op == "Add" else getattr(torch_functions(), op).apply


def _student_pick(fns: Functions) -> Callable[[str], Any]:
    """The student's Function class (its backward is called directly), or a plain ``.apply`` for
    an implementation that is not made of Functions (``--impl torch``)."""
    def pick(op: str) -> Any:
        cls = Add if op == "Add" else getattr(fns, op)
        return cls if _is_function(cls) else cls.apply
    return pick


def _local(node: Node, inputs: list[Any], needs: list[bool], upstream: torch.Tensor | None):
    """torch's output, and its gradients for ``upstream``, on the inputs this node received."""
    args = [x.detach().clone().requires_grad_(need) for x, need in zip(inputs, needs)]
    fn = _torch_pick(node.op)
    out = fn(*args)
    grads = _vjp(fn, args, out, upstream) if upstream is not None else [None] * len(args)
    return out.detach(), grads


def same(a: Any, b: Any) -> bool:
    """Equal to torch's within RTOL/ATOL, shape included (a non-finite value never is)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    return bool(close(a, b, RTOL, ATOL, finite=True).all())


def _mismatch_text(label: str, got: torch.Tensor, want: torch.Tensor) -> str:
    """'z1[1, 2] is -3.6, torch's is 0.0251': the entry that differs most."""
    m = mismatch(got, want, RTOL, ATOL)
    if m is None:  # differs only in non-finite values, which the grader's comparison lets through
        return f"{label} is {got.tolist()}, torch's is {want.tolist()}"
    return f"{label}{index_text(m.index)} is {m.actual:.6g}, torch's is {m.expected:.6g}"


def _backward_hint(node: Node, inputs: list[Any], needs: list[bool], upstream: torch.Tensor,
                   i: int, got: torch.Tensor, want: torch.Tensor) -> str:
    """The likely mistake, in the grader's words (the same mistake reads the same everywhere)."""
    if node.op == "Add":
        return ""
    case = {"inputs": inputs, "needs": needs, "grad_output": upstream}
    return _grader_hint(hw1.grad_hint, node.op, _arguments(node)[i], case, got, want, i)


def _forward_hint(node: Node, inputs: list[Any], got: torch.Tensor, want: torch.Tensor) -> str:
    if node.op == "Add":
        return ""
    return _grader_hint(hw1.forward_hint, node.op, {"inputs": inputs}, got, want)


def _judge_own(t: NodeTrace, needs: list[bool]) -> None:
    """Is this node wrong given exactly what it received? Sets status, reason and hint."""
    node = t.node
    expected, local = _local(node, t.inputs, needs, t.upstream)
    t.expected_output = expected
    for g in t.grads:
        g.local = local[node.inputs.index(g.tensor)]
    if not same(t.output, expected):
        t.status, t.stage = "wrong", "forward"
        t.reason = (f"{node.op}.forward: " + _mismatch_text(f"{node.output}", t.output, expected)
                    + f" for the same {', '.join(node.inputs)}")
        t.hint = _forward_hint(node, t.inputs, t.output, expected)
        return
    for g in t.grads:
        if g.local is not None and isinstance(g.yours, torch.Tensor) and not same(g.yours, g.local):
            t.status, t.stage = "wrong", "backward"
            t.reason = (f"{node.op}.backward: " + _mismatch_text(f"dJ/d{g.tensor}", g.yours, g.local)
                        + f" (`{g.arg}`) for the same inputs and upstream dJ/d{node.output}")
            index = node.inputs.index(g.tensor)
            t.hint = _backward_hint(node, t.inputs, needs, t.upstream, index, g.yours, g.local)
            return


def compare_runs(net: Net, student: _Run, reference: _Run) -> list[NodeTrace]:
    """One NodeTrace per node (forward order) with its status."""
    traces = []
    for node in net.nodes:
        t = NodeTrace(node, inputs=student.inputs.get(node.name, []), output=student.outputs.get(node.name),
                      torch_output=reference.outputs[node.name], upstream=student.upstream.get(node.name),
                      torch_upstream=reference.upstream[node.name])
        needs = reference.needs[node.name]
        returned = student.returned.get(node.name)
        for i, (name, need) in enumerate(zip(node.inputs, needs)):
            if need:
                t.grads.append(Grad(name, _arguments(node)[i], returned[i] if returned and i < len(returned) else None,
                                    reference.returned[node.name][i]))
        if node.name in student.errors:
            t.status, t.reason, t.hint = "error", student.errors[node.name], student.hints.get(node.name, "")
            t.stage = student.stages[node.name]
            if isinstance(t.output, torch.Tensor):
                _fill_local(t, needs)
        elif node.name not in student.outputs or t.upstream is None:
            t.status = "inherits"
        else:
            try:
                _judge_own(t, needs)
            except Exception as err:  # noqa: BLE001 - values torch's op cannot take: say so on the node
                t.status, t.stage = "error", "forward"
                t.reason = f"{node.op}: its values could not be compared with torch's ({type(err).__name__}: {err})"
            if t.status == "ok" and not _agrees_with_torch(t):
                t.status = "inherits"
            if t.status != "wrong" and node.name in student.in_place:  # its own mistake, whatever it inherits
                t.status, t.stage = "wrong", "backward"
                t.reason, t.hint = student.in_place[node.name]
        traces.append(t)
    _explain_inherits(traces)
    return traces


def _fill_local(t: NodeTrace, needs: list[bool]) -> None:
    """torch's values for what an erroring node received, to show beside what it returned."""
    try:
        expected, local = _local(t.node, t.inputs, needs, t.upstream)
    except Exception:  # noqa: BLE001 - inputs of a wrong shape: nothing to show
        return
    t.expected_output = expected
    for g in t.grads:
        g.local = local[t.node.inputs.index(g.tensor)]


def _agrees_with_torch(t: NodeTrace) -> bool:
    if not same(t.output, t.torch_output) or not same(t.upstream, t.torch_upstream):
        return False
    return all(same(g.yours, g.torch) for g in t.grads)


def _explain_inherits(traces: list[NodeTrace]) -> None:
    culprits = [t for t in traces[::-1] if t.status in ("wrong", "error")]
    blame = (f"{culprits[0].node.name} ({culprits[0].node.op})" if len(culprits) == 1
             else "the red nodes" if culprits else "another node")
    for t in traces:
        if t.status != "inherits":
            continue
        if t.output is None or t.upstream is None:
            t.reason = f"not reached: {blame} failed before this node's {'forward' if t.output is None else 'backward'} ran"
        else:
            t.reason = (f"computes what torch computes from what it received; its values differ only "
                        f"because of {blame}")


def trace(fns: Functions, net: Net, impl: str, seed: int) -> Trace:
    """Run ``net`` with ``fns`` and with torch's built-ins and compare them node by node."""
    reference = run_side(net, _torch_pick)
    if reference.errors:  # the built-ins never fail on these networks; if they do, it is a bug here
        raise RuntimeError(f"torch's side of the trace failed: {reference.errors}")
    student = run_side(net, _student_pick(fns), fns, reference.outputs)
    return Trace(net, impl, seed, compare_runs(net, student, reference))

