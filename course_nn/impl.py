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
import linecache
import re
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
    if path.is_dir():
        inside = " inside it" if (path / "functions.py").is_file() else ""
        raise UsageError(f"--impl {path} is a folder; pass the functions.py{inside} (e.g. --impl {path / 'functions.py'})")
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


def default_impl() -> str:
    """What --impl means when it is not given: the course's solutions/ where there is one (an
    instructor's clone), else the functions.py in the current folder (a student's bundle)."""
    from course_nn import paths

    if paths.solutions_dir(required=False) is not None:
        return "solutions"
    if Path("functions.py").is_file():
        return "functions.py"
    raise UsageError("no --impl given, no solutions/ (instructor-only) and no functions.py in this folder; "
                     "run from your hw1 folder, or pass --impl path/to/functions.py (or --impl torch)")


def describe_impl(impl: str) -> str:
    """How the first line of train/compare names the implementation in use."""
    if impl in ("solutions", "assignments"):
        return f"--impl {impl} ({impl_file(impl)})"
    if impl == "torch":
        return "--impl torch (torch's built-ins)"
    return f"--impl {impl} ({Path(impl).expanduser().resolve()})"


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


# ----------------------------------------------------------------------------- failures at run time

#: The inputs of each Function's forward, in order: autograd's "gradient at index i" is the gradient
#: for the i-th of these.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "Square": ("x",),
    "QuadraticForm": ("v", "A"),
    "Sigmoid": ("z",),
    "ReLU": ("z",),
    "Linear": ("x", "weight", "bias"),
    "SquaredError": ("pred", "target"),
    "CrossEntropy": ("logits", "target"),
}

#: What the gradient for an input must look like, for the mistakes students make most.
SHAPE_HINTS: dict[tuple[str, str], str] = {
    ("Linear", "weight"): "dJ/dW has W's shape (out, in): use grad_outputᵀ · x",
    ("Linear", "bias"): "dJ/db has b's shape (out,): sum the bias gradient over the batch",
    ("Linear", "x"): "dJ/dx has x's shape (N, in): use grad_output · W",
    ("QuadraticForm", "v"): "dJ/dv has v's shape (n,): g · (A + Aᵀ) v",
    ("QuadraticForm", "A"): "dJ/dA has A's shape (n, n): g · v vᵀ",
}

# torch's checks on what a custom backward returned (the Function is named "<Class>Backward")
_BAD_SHAPE = re.compile(r"[Ff]unction (\w+?)Backward returned an invalid gradient at index (\d+) - "
                        r"got \[([^\]]*)\] but expected shape compatible with \[([^\]]*)\]")
_BAD_COUNT = re.compile(r"[Ff]unction (\w+?)Backward returned an incorrect number of gradients "
                        r"\(expected (\d+), got (\d+)\)")
_BAD_OTHER = re.compile(r"[Ff]unction (\w+?)Backward returned (.*)")


@dataclass(frozen=True)
class Failure:
    """An exception from an implementation, explained: ``owner`` is "Function.method" when known,
    ``line`` the one-line message for the user."""

    owner: str | None
    line: str


def _first_line(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _function_named(fns: Functions, class_name: str) -> str | None:
    """The hw1 name (e.g. "Linear") of the implementation's class called ``class_name``."""
    for name in REQUIRED + OPTIONAL:
        cls = getattr(fns, name)
        if cls is not None and getattr(cls, "__name__", None) == class_name:
            return name
    return None


def _def_line(fns: Functions, name: str, method: str) -> str:
    """' (path:line)' of ``fns.<name>.<method>``'s definition, or ''."""
    code = getattr(getattr(getattr(fns, name), method, None), "__code__", None)
    if code is None or fns.source is None or Path(code.co_filename).resolve() != fns.source:
        return ""
    first = code.co_firstlineno  # the first decorator's line; step to the def itself
    line = next((n for n in range(first, first + 5)
                 if linecache.getline(str(fns.source), n).lstrip().startswith("def")), first)
    return f" ({fns.source}:{line})"


def _shape(text: str) -> str:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _autograd_failure(fns: Functions, err: BaseException) -> Failure | None:
    """torch's complaint about what a backward returned, translated into the hw1 names."""
    text = " ".join(str(err).split())
    match = _BAD_SHAPE.search(text)
    if match and (name := _function_named(fns, match[1])):
        index = int(match[2])
        args = ARGUMENTS.get(name, ())
        arg = args[index] if index < len(args) else f"input {index}"
        got, expected = _shape(match[3]), _shape(match[4])
        hint = SHAPE_HINTS.get((name, arg), f"return a gradient with the shape of {arg}")
        return Failure(f"{name}.backward", (
            f"{name}.backward returned a gradient for {arg} (index {index}) of shape {got}, expected {expected} "
            f"like {arg}: {hint}{_def_line(fns, name, 'backward')}"))
    match = _BAD_COUNT.search(text)
    if match and (name := _function_named(fns, match[1])):
        args = ", ".join(f"grad_{a}" for a in ARGUMENTS.get(name, ()))
        return Failure(f"{name}.backward", (
            f"{name}.backward returned {match[3]} gradients but forward takes {match[2]} inputs: return one per "
            f"input{f' ({args})' if args else ''}, None for an input that needs none{_def_line(fns, name, 'backward')}"))
    match = _BAD_OTHER.search(text)
    if match and (name := _function_named(fns, match[1])):
        return Failure(f"{name}.backward",
                       f"{name}.backward returned {match[2]}{_def_line(fns, name, 'backward')}")
    return None


def describe_failure(fns: Functions, err: BaseException, fallback: bool = False) -> Failure | None:
    """Explain an exception raised while a network ran through ``fns``, in one line.

    Recognises NotImplementedError, torch's checks on what a backward returned (wrong shape, wrong
    number of gradients: named with the hw1 argument, e.g. index 1 of Linear = weight, and a hint),
    and any exception whose traceback passes through one of the Functions (named with the file and
    line of the implementation where it was raised). Anything else gives None, or with ``fallback``
    (only the implementation's code ran) a line that blames the implementation without a Function.
    """
    if isinstance(err, NotImplementedError):
        return Failure(None, not_implemented_message(fns, err))
    known = _autograd_failure(fns, err)
    if known is not None:
        return known
    owner, where = None, None
    for frame, lineno in traceback.walk_tb(err.__traceback__):
        owner = fns.owner_of(frame.f_code) or owner
        if fns.source is not None and Path(frame.f_code.co_filename).resolve() == fns.source:
            code = linecache.getline(frame.f_code.co_filename, lineno).strip()
            where = f"{fns.source}:{lineno}" + (f": {code}" if code else "")
    message = f"{type(err).__name__}: {_first_line(err)}".rstrip(": ")
    if owner is not None:
        return Failure(owner, f"{owner} raised {message}" + (f" ({where})" if where else ""))
    if where is not None:
        return Failure(None, f"{where} raised {message}")
    if fallback:
        what = fns.source or fns.name
        return Failure(None, f"running the network through {what} failed with {message} "
                             "(check the shapes and dtypes its forward and backward return)")
    return None
