"""A trace as JSON (course-nn trace --json): every recorded value, full precision."""

from __future__ import annotations

from typing import Any

import torch

from course_nn.trace.record import NodeTrace, Trace


def _plain(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().double().tolist() if x.is_floating_point() else x.tolist()
    if x is None:
        return None
    return repr(x)


def to_json(tr: Trace) -> dict[str, Any]:
    """Every recorded value, full precision. ``first_wrong`` and each node's name/op/status are pinned."""
    first = tr.first_wrong
    return {
        "net": tr.net.name,
        "description": tr.net.description,
        "impl": tr.impl,
        "seed": tr.seed,
        "first_wrong": first.node.op if first is not None else None,
        "first_wrong_node": first.node.name if first is not None else None,
        "leaves": {name: _plain(v) for name, v in tr.net.leaves.items()},
        "nodes": [_node_json(t) for t in tr.nodes],
    }


def _node_json(t: NodeTrace) -> dict[str, Any]:
    return {
        "name": t.node.name,
        "op": t.node.op,
        "status": t.status,
        "reason": t.reason or None,
        "likely_mistake": t.hint or None,
        "inputs": {name: _plain(x) for name, x in zip(t.node.inputs, t.inputs)},
        "output_name": t.node.output,
        "output": _plain(t.output),
        "torch_output": _plain(t.torch_output),
        "upstream": _plain(t.upstream),
        "torch_upstream": _plain(t.torch_upstream),
        "grads": {g.tensor: {"arg": g.arg, "yours": _plain(g.yours), "torch": _plain(g.torch),
                             "torch_same_inputs": _plain(g.local)} for g in t.grads},
    }
