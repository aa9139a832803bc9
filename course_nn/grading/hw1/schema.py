"""What probe_hw1 sends back for one case, as a schema (grading/schema.py) bound to that case.

Every field the checks read is here, with its type and, where the case fixes it, its size: one
entry per forward input, one Jacobian row per gradcheck point. A result that does not conform
fails its case before any check reads it.
"""

from __future__ import annotations

from functools import lru_cache

from course_nn.grading.schema import (
    Bool,
    Int,
    Items,
    Maybe,
    OneOf,
    Record,
    Schema,
    Str,
    Strings,
    Tensor,
)

MAX_INPUTS = 8  # forward takes at most three; a few more gradients are an honest mistake, not an attack
TEXT = Str(2000)  # exception descriptions (the runner caps them at 400 characters and a line)
SHORT = Str(200)  # kinds, devices, exception type names

# What the recorders saw of numerical differentiation in one call (see child/numdiff_watch.py); backward's
# watch adds the elements its code took out of torch (to numpy or Python numbers) and the methods that did,
# and what came in: elements, distinct Python numbers, and gradients built from outside values.
LEFT_TORCH = Record({"elements": Int(0), "ways": Strings(16)}, {"questions": Int(0)})
ENTERED_TORCH = Record({"elements": Int(0), "numbers": Int(0), "tainted_grads": Int(0, MAX_INPUTS)})
WATCH = Record({"complex": Bool(), "perturbed": Items(Int(0, MAX_INPUTS), MAX_INPUTS), "produced": Int(0),
                "ops": Int(0)}, {"left_torch": LEFT_TORCH, "entered_torch": ENTERED_TORCH})

APPLY = Record({"error": TEXT, "graph_on_ctx": Strings(64), "ctx_tensor_attrs": Strings(64),
                "version_error": Maybe(Bool())})

# A result of something other than the probe: the class is missing, or an exception escaped it.
MISSING = Record({"missing": Bool()}, {"error": TEXT, "tampered": Strings()})
ESCAPED = Record({"error": TEXT}, {"stage": SHORT, "tampered": Strings()})


def _direct(n_inputs: int) -> Record:
    per_input = Items(Bool(), length=n_inputs)  # whether the call changed each input in place

    def counts_agree(d: dict) -> str | None:
        grads, n = d.get("grads"), d["n_grads"]
        if grads is not None and len(grads) != n:
            return f"direct.grads: {len(grads)} items but n_grads is {n}"
        for key in ("grad_types", "grad_devices"):
            if key in d and grads is not None and len(d[key]) != len(grads):
                return f"direct.{key}: {len(d[key])} items for {len(grads)} gradients"
        return None

    return Record(
        {"out": Maybe(Tensor()), "out_type": SHORT, "grads": Maybe(Items(Maybe(Tensor()), MAX_INPUTS)),
         "n_grads": Int(-1, 1 << 16), "error_forward": TEXT, "error_backward": TEXT, "exc_forward": SHORT,
         "exc_backward": SHORT, "not_implemented": Bool(), "ctx_tensor_attrs": Strings(64),
         "saved_count": Int(0, 1 << 16)},
        {"ops_forward": Strings(), "ops": Strings(), "changed_forward": per_input, "out_device": SHORT,
         "grad_types": Items(SHORT, MAX_INPUTS), "grad_devices": Items(SHORT, MAX_INPUTS),
         "changed_backward": per_input, "grad_output_changed": Bool(), "watch_forward": WATCH,
         "watch_backward": WATCH},
        counts_agree)


def _gradcheck(n_points: int) -> Record:
    rows = Maybe(Tensor(dims=2))

    def points_agree(gc: dict) -> str | None:
        for key in ("plus", "minus"):
            t = gc.get(key)
            if t is not None and t.shape[0] != n_points:
                return f"gradcheck.{key}: {t.shape[0]} rows for {n_points} points"
        if gc.get("plus") is not None and gc.get("minus") is not None and gc["plus"].shape != gc["minus"].shape:
            return "gradcheck.plus and gradcheck.minus differ in shape"
        return None

    return Record({"plus": rows, "minus": rows, "error": TEXT, "exc": SHORT}, {"not_implemented": Bool()},
                  points_agree)


def result_schema(case) -> Schema:
    """The schema of ``case``'s result: the probe's record for its kind, or one of the two records
    that stand for no result (a missing class, an exception that escaped the probe)."""
    return _schema(case["kind"] == "gradcheck", len(case["inputs"]),
                   len(case["points"]) if case["kind"] == "gradcheck" else 0)


@lru_cache(maxsize=256)
def _schema(gradcheck: bool, n_inputs: int, n_points: int) -> Schema:
    """Built once per shape of case (the nodes are immutable): a grading has a few, a class the same few."""
    if gradcheck:
        probed = Record({"direct": _direct(n_inputs), "gradcheck": _gradcheck(n_points)}, {"tampered": Strings()})
    else:
        probed = Record({"direct": _direct(n_inputs)}, {"apply": APPLY, "tampered": Strings()})
    return OneOf((probed, MISSING, ESCAPED))
