"""What probe_hw2 sends back for one case, as schemas (grading/schema.py), checked before scoring.

A task's result is either the probe's record for that task, or one of the records that stand for
no result (the function is missing, or it raised). Values the submission returned (``value``,
``inputs_after``) are plain data of any shape: the task's check reads them defensively; every
field the scorer itself reads has a fixed type here.
"""

from __future__ import annotations

from course_nn.grading.schema import (
    Any,
    Bool,
    Float,
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

TEXT, SHORT = Str(2000), Str(200)
PLAIN = Any()  # what the submission returned, as plain data (the frame check already refused the rest)
COUNTS = Items(Int(0, 1 << 30), 64)

# No result: the function is missing, the submission raised, or the grader stood in with a reason.
MISSING = Record({"missing": Bool()}, {"error": TEXT, "tampered": Strings()})
RAISED = Record({"error": TEXT}, {"exc_type": SHORT, "not_implemented": Bool(), "stage": SHORT,
                                 "tampered": Strings()})

CALL = Record({"value": PLAIN, "value_type": SHORT, "inputs_after": PLAIN},
              {"f_calls": Int(0), "tampered": Strings()})

_CALLS = Record(optional={"Linear": Int(0), "ReLU": Int(0), "Sigmoid": Int(0), "backward": Int(0)})
_MODEL = {"shapes": Items(Items(Int(0), 8), 64), "submodules": Strings(64), "loaded": Bool(),
          "dtypes": Strings(64)}
_REACHED = Record(optional={"Linear": COUNTS, "ReLU": COUNTS, "Sigmoid": COUNTS})  # call numbers
_RUNS = Record(optional={"Linear": COUNTS, "ReLU": COUNTS, "Sigmoid": COUNTS})
MLP = Record(_MODEL, {"calls": _CALLS, "reached": _REACHED, "runs": _RUNS, "out": PLAIN, "out_type": SHORT, "no_graph": Bool(),
                      "grads": Items(Maybe(Tensor()), 64), "x_grad": Maybe(Tensor()), "weights": Items(PLAIN, 64),
                      "train_loss": Float(), "flow_out": Maybe(Tensor()), "flow_grads": Items(Maybe(Tensor()), 64),
                      "tampered": Strings()})
SGD = Record({"value_type": SHORT, "params": Items(Maybe(Tensor()), 64), "grads": Items(Maybe(Tensor()), 64),
              "requires_grad": Items(Bool(), 64), "is_leaf": Items(Bool(), 64)}, {"tampered": Strings()})
EPOCH = Record({"value": Maybe(Float()), "value_type": SHORT, "loss_calls": Int(0), "params": Items(PLAIN, 64)},
               {"tampered": Strings()})


def either(probed: Schema) -> Schema:
    """A task's result: its probe's record, or a record standing for no result."""
    return OneOf((probed, MISSING, RAISED))


# A task that declares no record of its own: the fields the scorer reads are typed, the rest is the
# task check's to read defensively.
DEFAULT = Record(optional={"error": TEXT, "exc_type": SHORT, "stage": SHORT, "missing": Bool(),
                           "not_implemented": Bool(), "tampered": Strings()}, open=True)

RESULTS: dict[str, Schema] = {
    **{task: either(CALL) for task in ("count_parameters", "perceptron_predict", "perceptron_train", "xor_perceptrons",
                                       "relu_interpolant", "step_approximation", "collapse_linear")},
    "MLP": either(MLP), "sgd_step": either(SGD), "train_epoch": either(EPOCH),
}


def result_schema(case) -> Schema:
    """The schema of ``case``'s result (a task without a record of its own gets ``DEFAULT``)."""
    return RESULTS.get(case["task"], DEFAULT)
