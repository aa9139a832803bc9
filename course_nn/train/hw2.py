"""Train a student's own hw2 MLP: their ``MLP`` class, trained by their ``train_epoch`` with the
``sgd_step`` it calls (``course-nn train --hw2 mlp.py``), with the usual TensorBoard run.

The trainer builds ``MLP(sizes, activation=..., functions=F)`` with F the ``--impl`` Functions
(torch's built-ins unless told otherwise, like the handout's ``TorchFunctions``), and each epoch
calls ``train_epoch(model, batches, loss_fn, lr)`` with the epoch's shuffled batches as a list of
``(x, y)`` and a ``loss_fn`` that also records each batch's loss and accuracy for the dashboards.
In a distributed run ``model`` is the DistributedDataParallel wrapper: its ``parameters()`` are the
MLP's, and backward averages the gradients of all ranks before their ``sgd_step`` runs.

An exception that starts in the student's file is one line naming their function and line:
``your train_epoch raised ValueError: ... (mlp.py:41: ...)``.
"""

from __future__ import annotations

import linecache
import math
import traceback
import types
from pathlib import Path

import torch
from torch import nn

from course_nn.errors import CourseError, UsageError
from course_nn.impl import Functions, describe_failure, load_module
from course_nn.train import features as feature_maps
from course_nn.train import stopping

#: What ``--hw2`` calls in the student's file.
NEEDED = ("MLP", "sgd_step", "train_epoch")


def load(path: str) -> types.ModuleType:
    """The student's mlp.py, with MLP, sgd_step and train_epoch; UsageError (one line) otherwise."""
    try:
        module = load_module(path)
    except UsageError as err:
        raise UsageError(str(err).replace("(pass 'solutions', 'assignments', 'torch' or a path to functions.py)",
                                          "(pass your hw2 mlp.py)")) from None
    missing = [name for name in NEEDED if not callable(getattr(module, name, None))]
    if missing:
        raise UsageError(f"{module.__file__} has no {', '.join(missing)}; --hw2 trains your MLP with your sgd_step "
                         f"and train_epoch, so it needs all of {', '.join(NEEDED)}")
    return module


class StudentNetwork(nn.Module):
    """The student's MLP behind the trainer's model interface: the feature map first, the loss from
    the ``--impl`` Functions, the weight matrices for the histograms."""

    def __init__(self, mlp: nn.Module, fns: Functions, features: str) -> None:
        super().__init__()
        self.mlp = mlp
        self.fns = fns
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(feature_maps.apply(self.features, x))

    def loss(self, out: torch.Tensor, target: torch.Tensor, classification: bool) -> torch.Tensor:
        if classification:
            return self.fns.CrossEntropy.apply(out, target)
        return self.fns.SquaredError.apply(out, target)

    def layer_weights(self) -> list[tuple[str, torch.Tensor]]:
        """The MLP's weight matrices (its 2-D parameters) in registration order: layer1, layer2, ..."""
        matrices = [p for p in self.mlp.parameters() if p.dim() == 2]
        return [(f"layer{i + 1}", w) for i, w in enumerate(matrices)]


def build(module: types.ModuleType, fns: Functions, sizes: list[int], activation: str, features: str,
          seed: int) -> StudentNetwork:
    """``module.MLP(sizes, activation=..., functions=fns)`` for the feature widths; its initial
    weights come from torch's global generator, seeded here so a seed fixes them."""
    sizes = [feature_maps.width(features, sizes[0]), *sizes[1:]]
    torch.manual_seed(seed)
    try:
        mlp = module.MLP(sizes, activation=activation, functions=fns)
    except Exception as err:
        raise blame(err, module, fns, "MLP") from None
    if not isinstance(mlp, nn.Module) or not any(True for _ in mlp.parameters()):
        raise CourseError(f"your MLP({sizes}, activation={activation!r}, functions=...) built a "
                          f"{type(mlp).__name__} without parameters; it must be a torch.nn.Module whose "
                          "parameters are weight_1, bias_1, ... (see the handout, task 8)")
    return StudentNetwork(mlp, fns, features)


def _frames_in(err: BaseException, path: Path) -> list[tuple[types.FrameType, int]]:
    return [(frame, lineno) for frame, lineno in traceback.walk_tb(err.__traceback__)
            if Path(frame.f_code.co_filename).resolve() == path]


def _name(code: types.CodeType) -> str:
    name = getattr(code, "co_qualname", code.co_name)
    return name.replace(".__init__", "").replace("<locals>.", "")


def blame(err: BaseException, module: types.ModuleType, fns: Functions, entry: str) -> CourseError:
    """One line for an exception raised while the trainer called the student's ``entry``
    (MLP, train_epoch): the innermost of their functions it passed through, or, when it started
    in their hw1 Functions (--impl), that Function."""
    path = Path(module.__file__).resolve()
    ours = _frames_in(err, path)
    mine = [Path(f.f_code.co_filename).resolve() for f, _ in traceback.walk_tb(err.__traceback__)]
    mine = [p for p in mine if p in (path, fns.source)]
    if fns.source is not None:  # their hw1 Functions (--impl): the error may have started there
        failure = describe_failure(fns, err)
        started_there = bool(mine) and mine[-1] == fns.source
        if failure is not None and (started_there or (failure.owner and "backward returned" in str(err).lower())):
            return CourseError(failure.line + f" (while your {entry} ran)")
    message = " ".join(str(err).split())[:300]
    what = f"{type(err).__name__}: {message}".rstrip(": ")
    if not ours:
        return CourseError(f"your {entry} raised {what} (the error came from torch; check the shapes and "
                           "types your code passes it)")
    frame, lineno = ours[-1]
    where = _name(frame.f_code)
    code = linecache.getline(str(path), lineno).strip()
    line = f"{path}:{lineno}" + (f": {code}" if code else "")
    during = f" while your {entry} ran" if where != entry else ""
    if isinstance(err, NotImplementedError):
        return CourseError(f"your {where} is not implemented yet ({path}:{lineno} raises NotImplementedError)"
                           f"{during}; implement it first")
    return CourseError(f"your {where} raised {what} ({line}){during}")


def probe(module: types.ModuleType, model: StudentNetwork, x: torch.Tensor, y: torch.Tensor,
          classification: bool) -> None:
    """One forward and backward through the student's MLP (no update): a broken forward is one line
    before anything is written."""
    try:
        model.loss(model(x), y, classification).backward()
    except Exception as err:
        raise blame(err, module, model.fns, "MLP.forward") from None
    finally:
        model.zero_grad(set_to_none=True)


def run_epoch(module: types.ModuleType, net: nn.Module, model: StudentNetwork, batches: list, lr: float,
              classification: bool, epoch: int, step: int, bar) -> tuple[float, float, float, int]:
    """``train_epoch(net, batches, loss_fn, lr)`` of the student, recording every loss it computes.
    Returns (loss sum, correct, examples seen, steps) over the batches loss_fn saw."""
    from course_nn.train.trainer import Diverged

    seen = {"loss": 0.0, "correct": 0.0, "n": 0.0, "calls": 0}

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        stopping.check()  # Ctrl-C stops between the student's steps (course_nn/train/stopping.py)
        loss = model.loss(out, target, classification)
        value = float(loss.detach())
        seen["calls"] += 1
        if not math.isfinite(value):
            raise Diverged(epoch, step + seen["calls"], seen["calls"], value)
        seen["loss"] += value * len(target)
        seen["n"] += len(target)
        if classification:
            seen["correct"] += float((out.detach().argmax(dim=1) == target).sum())
        if bar is not None:
            bar.update(1)
        return loss

    try:
        value = module.train_epoch(net, batches, loss_fn, lr)
    except Diverged:
        raise
    except Exception as err:
        raise blame(err, module, model.fns, "train_epoch") from None
    if seen["calls"] == 0:
        raise CourseError(f"your train_epoch never called loss_fn on the {len(batches)} batches it was given; "
                          "compute loss_fn(model(x), y) for each (x, y), backpropagate it and call sgd_step")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number and not (isinstance(value, torch.Tensor) and value.numel() == 1):
        raise CourseError(f"your train_epoch returned {type(value).__name__}; it must return the mean of the "
                          "batch losses as a Python float (use loss.item())")
    return seen["loss"], seen["correct"], seen["n"], seen["calls"]
