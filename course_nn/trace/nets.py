"""The tiny networks ``course-nn trace --net`` draws, written as nodes over named tensors.

A network is its leaves (data, targets, weights: plain tensors with names such as ``x``, ``W1``)
and its nodes in forward order; each node applies one hw1 Function to named tensors and names its
output. The names follow the lecture: ``z`` for a layer's output, ``a`` for an activation, ``J``
for the objective. Everything is float64 and small enough that every number fits on the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.autograd import Function

from course_nn.trace import NETS  # noqa: F401 - the names and descriptions of --net live there

BATCH = 3  # three examples: small, yet not 2 (a factor 2 would hide "forgot to divide by N")


@dataclass(frozen=True)
class Node:
    """One ``.apply``: ``op`` is the hw1 Function (or ``Add``), ``inputs`` name its arguments."""

    name: str
    op: str
    inputs: tuple[str, ...]
    output: str


@dataclass
class Net:
    """Leaves (name -> tensor), the nodes in forward order, and which leaves need a gradient."""

    name: str
    description: str
    leaves: dict[str, torch.Tensor]
    nodes: list[Node]
    params: set[str] = field(default_factory=set)

    def consumers(self, value: str) -> list[Node]:
        """The nodes that take ``value`` as an input (more than one: its gradient is a sum)."""
        return [n for n in self.nodes if value in n.inputs]


class Add(Function):
    """u + v: where the two branches of ``--net paths`` join. Not a hw1 task; the tracer's own,
    so that the graph can show a value feeding two paths. Both inputs get the upstream gradient."""

    @staticmethod
    def forward(ctx, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return u + v

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return grad_output, grad_output


def _rand(g: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    # rounded to two decimals so that the inputs read as plain numbers on the picture
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).round(decimals=2)


def _layer(g: torch.Generator, k: int, fan_in: int, fan_out: int) -> dict[str, torch.Tensor]:
    return {f"W{k}": _rand(g, fan_out, fan_in), f"b{k}": _rand(g, fan_out, scale=0.5)}


def _classifier(name: str, activation: str, seed: int) -> Net:
    g = torch.Generator().manual_seed(seed)
    leaves = {"x": _rand(g, BATCH, 2), "y": torch.randint(0, 2, (BATCH,), generator=g),
              **_layer(g, 1, 2, 3), **_layer(g, 2, 3, 2)}
    act = activation.lower()
    nodes = [Node("linear1", "Linear", ("x", "W1", "b1"), "z1"),
             Node(f"{act}1", activation, ("z1",), "a1"),
             Node("linear2", "Linear", ("a1", "W2", "b2"), "z2"),
             Node("loss", "CrossEntropy", ("z2", "y"), "J")]
    return Net(name, f"2 inputs, 3 {act} units, 2 classes, cross-entropy; batch of {BATCH}",
               leaves, nodes, {"W1", "b1", "W2", "b2"})


def _regression(seed: int) -> Net:
    g = torch.Generator().manual_seed(seed)
    x = _rand(g, BATCH, 1)
    leaves = {"x": x, "y": torch.sin(2 * x).round(decimals=2), **_layer(g, 1, 1, 3), **_layer(g, 2, 3, 1)}
    nodes = [Node("linear1", "Linear", ("x", "W1", "b1"), "z1"),
             Node("sigmoid1", "Sigmoid", ("z1",), "a1"),
             Node("linear2", "Linear", ("a1", "W2", "b2"), "z2"),
             Node("loss", "SquaredError", ("z2", "y"), "J")]
    return Net("regression", f"1 input, 3 sigmoid units, 1 output, squared error; batch of {BATCH}",
               leaves, nodes, {"W1", "b1", "W2", "b2"})


def _paths(seed: int) -> Net:
    """The lecture's z1 feeding z2 = f2(w_B, z1) and z3 = f3(w_C, z1), joined in z4."""
    g = torch.Generator().manual_seed(seed)
    leaves = {"x": _rand(g, BATCH, 2), "y": torch.randint(0, 2, (BATCH,), generator=g),
              **_layer(g, 1, 2, 3), **_layer(g, 2, 3, 2), **_layer(g, 3, 3, 2)}
    nodes = [Node("linear1", "Linear", ("x", "W1", "b1"), "z1"),
             Node("sigmoid1", "Sigmoid", ("z1",), "a1"),
             Node("linear2", "Linear", ("a1", "W2", "b2"), "z2"),
             Node("linear3", "Linear", ("a1", "W3", "b3"), "z3"),
             Node("add", "Add", ("z2", "z3"), "z4"),
             Node("loss", "CrossEntropy", ("z4", "y"), "J")]
    return Net("paths", f"a1 feeds two layers whose outputs are added (dJ/da1 += from each path); batch of {BATCH}",
               leaves, nodes, {"W1", "b1", "W2", "b2", "W3", "b3"})


def build_net(name: str, seed: int = 0) -> Net:
    """The network ``--net name`` with data and weights drawn from ``seed``."""
    if name == "mlp":
        return _classifier("mlp", "Sigmoid", seed)
    if name == "relu":
        return _classifier("relu", "ReLU", seed)
    if name == "regression":
        return _regression(seed)
    if name == "paths":
        return _paths(seed)
    raise KeyError(name)
