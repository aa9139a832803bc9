"""Load an implementation of the hw1 Functions: the solutions, the student stubs, torch's built-ins,
or a student's own ``functions.py`` given by path.

Every implementation is returned as a :class:`Functions` object whose attributes (``Linear``,
``ReLU``, ``Sigmoid``, ``CrossEntropy``, ``SquaredError`` and, where present, ``Square`` and
``QuadraticForm``) each have an ``.apply`` with the hw1 signatures. The trainer, ``compare`` and
the graders build networks from these attributes only, so any implementation can be swapped in.

    fns = load_functions("solutions")             # solutions/hw1_autograd/functions.py
    fns = load_functions("torch")                 # torch's built-ins (also: torch_functions())
    fns = load_functions("path/to/functions.py")  # a student's file, imported by path
    y = fns.Linear.apply(x, W, b)                 # x (N, in), W (out, in), b (out,) -> (N, out)
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from course_nn.errors import UsageError

#: The Functions a network needs (the trainer fails with one line when one is missing).
REQUIRED: tuple[str, ...] = ("Linear", "ReLU", "Sigmoid", "CrossEntropy", "SquaredError")
#: Warm-up Functions, loaded when the implementation has them.
OPTIONAL: tuple[str, ...] = ("Square", "QuadraticForm")
#: Names accepted by ``--impl`` besides a path.
NAMED: tuple[str, ...] = ("solutions", "assignments", "torch")


@dataclass(frozen=True)
class Functions:
    """One implementation of the hw1 Functions. ``name`` is what the user passed; ``source`` is the
    file they came from (None for torch's built-ins)."""

    name: str
    source: Path | None
    Linear: Any
    ReLU: Any
    Sigmoid: Any
    CrossEntropy: Any
    SquaredError: Any
    Square: Any = None
    QuadraticForm: Any = None

    def owner_of(self, code: types.CodeType) -> str | None:
        """The name of the Function whose ``forward``/``backward`` has this code object, if any."""
        for name in REQUIRED + OPTIONAL:
            cls = getattr(self, name)
            for method in ("forward", "backward", "setup_context"):
                fn = getattr(cls, method, None)
                if getattr(fn, "__code__", None) is code:
                    return f"{name}.{method}"
        return None


# ----------------------------------------------------------------------------- torch's built-ins
# Each class mirrors a hw1 Function with torch's own op, so `.apply` has the same signature.


class TorchSquare:
    """y = x ** 2 with torch.square."""

    apply = staticmethod(torch.square)


class TorchQuadraticForm:
    """vᵀ A v for v (n,), A (n, n) -> 0-dim, with torch's matmul."""

    @staticmethod
    def apply(v: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        return v @ (A @ v)


class TorchSigmoid:
    """Elementwise logistic sigmoid with torch.sigmoid."""

    apply = staticmethod(torch.sigmoid)


class TorchReLU:
    """Elementwise max(0, z) with torch.relu (gradient 0 at exactly 0)."""

    apply = staticmethod(torch.relu)


class TorchLinear:
    """x Wᵀ + b with F.linear: x (N, in), W (out, in), b (out,) or None -> (N, out)."""

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.linear(x, weight, bias)


class TorchSquaredError:
    """Mean squared error with F.mse_loss: pred, target (same shape) -> 0-dim."""

    @staticmethod
    def apply(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred, target)


class TorchCrossEntropy:
    """Mean softmax cross-entropy with F.cross_entropy: logits (N, C), target (N,) int or (N, C) probs."""

    @staticmethod
    def apply(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)


def torch_functions() -> Functions:
    """torch's built-ins behind the hw1 interface (the "expected" side of compare and the graders)."""
    return Functions(
        name="torch",
        source=None,
        Linear=TorchLinear,
        ReLU=TorchReLU,
        Sigmoid=TorchSigmoid,
        CrossEntropy=TorchCrossEntropy,
        SquaredError=TorchSquaredError,
        Square=TorchSquare,
        QuadraticForm=TorchQuadraticForm,
    )


# ----------------------------------------------------------------------------- files by path


def _import_error_line(path: Path, err: BaseException) -> str:
    """'file:line: ErrorType: message' for an exception raised while importing ``path``."""
    if isinstance(err, SyntaxError) and err.lineno is not None:
        return f"{path}:{err.lineno}: SyntaxError: {err.msg}"
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve() == path:
            line = frame.lineno
    where = f"{path}:{line}" if line is not None else str(path)
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{where}: {type(err).__name__}: {message}".rstrip(": ")


def load_module(path: str | Path) -> types.ModuleType:
    """Import a Python file by path under a unique module name (two students' files never clash).

    Raises UsageError (one line: file, line, error) when the file is missing or fails to import.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"no such file: {path} (pass 'solutions', 'assignments', 'torch' or a path to functions.py)")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"course_nn_impl_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException as err:  # noqa: B036 - a student file can raise anything, even SystemExit
        sys.modules.pop(name, None)
        if isinstance(err, KeyboardInterrupt):
            raise
        raise UsageError(f"{path} failed to import: {_import_error_line(path, err)}") from err
    return module


def functions_from_module(module: types.ModuleType, name: str, source: Path | None) -> Functions:
    """Pick the hw1 Functions out of a module; UsageError naming the first missing class."""
    found: dict[str, Any] = {}
    for cls_name in REQUIRED:
        cls = getattr(module, cls_name, None)
        if cls is None or not callable(getattr(cls, "apply", None)):
            where = source if source is not None else module.__name__
            raise UsageError(f"{where} has no class {cls_name} with an .apply (the trainer needs {', '.join(REQUIRED)})")
        found[cls_name] = cls
    for cls_name in OPTIONAL:
        found[cls_name] = getattr(module, cls_name, None)
    return Functions(name=name, source=source, **found)


def impl_file(impl: str) -> Path | None:
    """The file an ``--impl`` value refers to (None for "torch")."""
    from course_nn import paths

    if impl == "torch":
        return None
    if impl == "solutions":
        return paths.solutions_dir() / "hw1_autograd" / "functions.py"
    if impl == "assignments":
        path = paths.assignments_dir() / "hw1_autograd" / "functions.py"
        if not path.is_file():
            raise UsageError(f"no student stubs at {path}; generate them with 'course-nn handout' or pass a path")
        return path
    return Path(impl).expanduser().resolve()


def load_functions(impl: str) -> Functions:
    """Load an implementation of the hw1 Functions.

    ``impl`` is "solutions", "assignments", "torch" or a path to a ``functions.py``. The result has
    attributes Linear, ReLU, Sigmoid, CrossEntropy, SquaredError (and Square, QuadraticForm where the
    file defines them), each with ``.apply``. Bad input raises UsageError with one line.
    """
    if impl == "torch":
        return torch_functions()
    path = impl_file(impl)
    assert path is not None
    module = load_module(path)
    return functions_from_module(module, impl, path)


def not_implemented_message(fns: Functions, err: NotImplementedError) -> str:
    """One line naming the Function that raised NotImplementedError (found in the traceback)."""
    owner = None
    tb = err.__traceback__
    while tb is not None:  # the innermost frame of the implementation's file wins
        owner = fns.owner_of(tb.tb_frame.f_code) or owner
        tb = tb.tb_next
    what = owner or "one of the Functions"
    where = f" in {fns.source}" if fns.source is not None else ""
    return f"{what} is not implemented yet{where} (it raised NotImplementedError); implement it or use --impl solutions"
