"""Child-side probes for hw1: run a submitted autograd Function on parent-chosen inputs.

Standard library and torch only. Nothing here decides a score; it records what the student's code
returned, what it changed, and which torch calls it made, as plain data for the parent.

Three ways the Function is called, per case:
- "stub": ``forward``/``backward`` called directly with a stand-in ctx under ``torch.inference_mode()``.
  No autograd engine is involved, so a backward that needs autograd breaks here, and the returned
  gradients are seen exactly as written (the engine would silently sum an unsummed bias gradient).
- "apply": the real ``Function.apply`` and autograd engine, to inspect the real ctx.
- gradcheck cases: forward values at parent-chosen perturbed points, and backward for each one-hot
  upstream gradient (the analytic Jacobian); the parent does the finite differences itself.
"""

from __future__ import annotations

import torch
from torch.autograd import Function
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode


class StubCtx:
    """Stands in for autograd's ctx when forward/backward are called directly."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = tuple(needs_input_grad)
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        object.__setattr__(self, "_stub_saved", tensors)

    @property
    def saved_tensors(self):
        return getattr(self, "_stub_saved", ())

    def save_for_forward(self, *tensors):
        pass

    def mark_dirty(self, *args):
        pass

    def mark_non_differentiable(self, *args):
        pass

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class _FunctionRecorder(TorchFunctionMode):
    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.seen.add(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


class _DispatchRecorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # never compiled; skipping the wrapper avoids importing torch._dynamo (~1-2 s)

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.add("aten." + func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def _plain(value):
    """A detached CPU copy of a tensor (inference tensors included), or None."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").clone()
    return None


def _tensor_attrs(ctx) -> list[str]:
    """Names of ctx attributes holding tensors (they should have gone through save_for_backward)."""
    names = []
    try:
        attrs = vars(ctx)
    except TypeError:
        return names
    for name, value in attrs.items():
        if name.startswith("_stub"):
            continue
        items = value if isinstance(value, (list, tuple)) else (value.values() if isinstance(value, dict) else (value,))
        if any(isinstance(v, torch.Tensor) for v in items):
            names.append(name)
    return names


def _graph_attrs(ctx, saved) -> list[str]:
    """Tensors kept on ctx that carry an autograd graph built inside forward (autograd doing the work).

    A saved output legitimately points back at ctx itself, and saved inputs are leaves here; any
    other ``grad_fn`` means forward ran differentiable ops under ``enable_grad`` and kept them.
    """

    def built_inside(t) -> bool:
        return isinstance(t, torch.Tensor) and t.grad_fn is not None and t.grad_fn is not ctx

    found = [f"saved_tensors[{i}]" for i, t in enumerate(saved or ()) if built_inside(t)]
    try:
        attrs = vars(ctx)
    except TypeError:
        attrs = {}
    for name, value in attrs.items():
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(built_inside(v) for v in items):
            found.append(f"ctx.{name}")
    return found


def _is_new_style(cls) -> bool:
    return getattr(cls, "setup_context", Function.setup_context) is not Function.setup_context


def _stub_forward(cls, ctx, inputs):
    if _is_new_style(cls):
        out = cls.forward(*inputs)
        cls.setup_context(ctx, tuple(inputs), out)
        return out
    return cls.forward(ctx, *inputs)


def _as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,) if not isinstance(grads, list) else tuple(grads)


def _describe(exc: BaseException, submission: str) -> str:
    try:
        from runner import describe_exception  # sandbox: runner.py sits beside this file
    except ImportError:
        from course_nn.grading.child.runner import describe_exception
    return describe_exception(exc, submission)


def _recorded(seen: set[str], record: bool, call):
    """Run ``call()`` with every torch function and aten op it reaches added to ``seen``."""
    if not record:
        return call()
    with _FunctionRecorder(seen), _DispatchRecorder(seen):
        return call()


def _stub(cls, case, inputs, grad_output, submission, record=True):
    """Direct forward + backward with a stand-in ctx, under inference_mode, with calls recorded."""
    seen: set[str] = set()
    res = {"out": None, "grads": None, "n_grads": -1, "error_forward": "", "error_backward": "",
           "not_implemented": False, "ctx_tensor_attrs": [], "saved_count": 0}
    ctx = StubCtx(case["needs"])

    def failed(stage: str, exc: BaseException) -> dict:
        res[f"error_{stage}"] = _describe(exc, submission)
        res["not_implemented"] = isinstance(exc, NotImplementedError)
        res["ops"] = sorted(seen)
        return res

    with torch.inference_mode():
        try:
            out = _recorded(seen, record, lambda: _stub_forward(cls, ctx, inputs))
        except BaseException as exc:
            return failed("forward", exc)
        res["ops_forward"] = sorted(seen)
        res["out"] = _plain(out)
        res["out_type"] = type(out).__name__
        res["out_device"] = str(out.device) if isinstance(out, torch.Tensor) else ""
        res["inputs_after_forward"] = [_plain(x) for x in inputs]
        res["ctx_tensor_attrs"] = _tensor_attrs(ctx)
        res["saved_count"] = len(ctx.saved_tensors)
        try:
            grads = _recorded(seen, record, lambda: cls.backward(ctx, grad_output))
        except BaseException as exc:
            return failed("backward", exc)
    grads = _as_tuple(grads)
    res["n_grads"] = len(grads)
    res["grads"] = [_plain(g) for g in grads]
    res["grad_types"] = [type(g).__name__ for g in grads]
    res["grad_devices"] = [str(g.device) if isinstance(g, torch.Tensor) else "" for g in grads]
    res["ops"] = sorted(seen)
    return res


def _apply(cls, case, inputs, grad_output, submission):
    """The real autograd path: inspect the real ctx and bump saved tensors' version counters."""
    res = {"error": "", "graph_on_ctx": [], "ctx_tensor_attrs": [], "grads": None, "version_error": None}
    leaves = []
    call_inputs = []
    for x, need in zip(inputs, case["needs"]):
        if isinstance(x, torch.Tensor) and x.is_floating_point() and need:
            leaf = x.detach().clone().requires_grad_(True)
            leaves.append(leaf)
            call_inputs.append(leaf)
        else:
            call_inputs.append(x)
    try:
        out = cls.apply(*call_inputs)
        ctx = out.grad_fn
        saved = ctx.saved_tensors if ctx is not None and hasattr(ctx, "saved_tensors") else ()
        res["graph_on_ctx"] = _graph_attrs(ctx, saved)
        res["ctx_tensor_attrs"] = _tensor_attrs(ctx) if ctx is not None else []
        if leaves:
            grads = torch.autograd.grad(out, leaves, grad_output, allow_unused=True, retain_graph=True)
            res["grads"] = [_plain(g) for g in grads]
            # save_for_backward lets torch catch in-place changes to saved tensors: bump every
            # input's and the output's version and expect backward to refuse the stale values.
            with torch.no_grad():  # in-place under no_grad still bumps the version counter
                for t in [out, *call_inputs]:
                    if isinstance(t, torch.Tensor) and t.is_floating_point():
                        t.add_(0)
            try:
                torch.autograd.grad(out, leaves, grad_output, allow_unused=True)
                res["version_error"] = False
            except RuntimeError as exc:
                res["version_error"] = "inplace" in str(exc) or "modified" in str(exc)
    except BaseException as exc:
        res["error"] = _describe(exc, submission)
    return res


def _gradcheck(cls, case, inputs, submission):
    """Forward values at perturbed points and the analytic Jacobian from one-hot backward calls."""
    eps = float(case["eps"])
    points = case["points"].tolist()
    res = {"plus": None, "minus": None, "jac": None, "error": ""}
    try:
        plus, minus = [], []
        with torch.inference_mode():
            for input_idx, flat_idx in points:
                for sign, bucket in ((1.0, plus), (-1.0, minus)):
                    moved = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
                    moved[input_idx].view(-1)[flat_idx] += sign * eps
                    out = _stub_forward(cls, StubCtx(case["needs"]), moved)
                    bucket.append(_plain(out).reshape(-1))
        res["plus"] = torch.stack(plus) if plus else None
        res["minus"] = torch.stack(minus) if minus else None
        out = _stub_forward(cls, StubCtx(case["needs"]), inputs)
        n_out = out.numel()
        columns: list[list] = [[] for _ in inputs]
        with torch.inference_mode():
            for k in range(n_out):
                onehot = torch.zeros(n_out, dtype=out.dtype, device=out.device)
                onehot[k] = 1
                ctx = StubCtx(case["needs"])
                out_k = _stub_forward(cls, ctx, inputs)
                grads = _as_tuple(cls.backward(ctx, onehot.reshape(out_k.shape)))
                for i in range(len(inputs)):
                    g = grads[i] if i < len(grads) else None
                    columns[i].append(_plain(g).reshape(-1) if isinstance(g, torch.Tensor) else None)
        res["jac"] = [torch.stack(c) if c and all(isinstance(r, torch.Tensor) for r in c) else None for c in columns]
    except BaseException as exc:
        res["error"] = _describe(exc, submission)
        res["not_implemented"] = isinstance(exc, NotImplementedError)
    return res


def run_case(module, case: dict, submission: str) -> dict:
    """Run one parent-chosen case against the submission's class ``case['task']``."""
    cls = getattr(module, case["task"], None)
    if cls is None:
        return {"missing": True}
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        return {"missing": True, "error": f"{case['task']} is not a torch.autograd.Function subclass"}
    device = case.get("device", "cpu")
    inputs = [x.to(device) if isinstance(x, torch.Tensor) else x for x in case["inputs"]]
    if case["kind"] == "gradcheck":
        return {"gradcheck": _gradcheck(cls, case, inputs, submission)}
    grad_output = case["grad_output"].to(device)
    result = {"stub": _stub(cls, case, inputs, grad_output, submission)}
    # What the student's calls left in the tensors we handed over (the parent compares).
    result["inputs_after"] = [_plain(x) for x in inputs]
    result["grad_output_after"] = _plain(grad_output)
    fresh = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
    result["apply"] = _apply(cls, case, fresh, case["grad_output"].to(device).clone(), submission)
    return result
