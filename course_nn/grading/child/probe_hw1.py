"""Child-side probes for hw1: run a submitted autograd Function on parent-chosen inputs.

Standard library and torch only. Nothing here decides a score; it records what the student's code
returned, what it changed, and which torch calls it made, as plain data for the parent.

Three ways the Function is called, per case:
- "direct": a real forward through ``.apply`` (so ``ctx`` is the object autograd itself builds and
  every ctx API behaves as in training), then ``backward`` called directly on that ctx under
  ``torch.no_grad()``. Calling it directly shows the returned gradients exactly as written: the
  engine would silently sum an unsummed bias gradient.
- "apply": the real autograd engine, to see whether saved tensors are protected by version counters.
- gradcheck cases: forward values at parent-chosen perturbed points, and backward for each one-hot
  upstream gradient (the analytic Jacobian); the parent does the finite differences itself.

Everything the student's code returns is checked with ``type(x) is torch.Tensor`` before any method
is called on it: a tensor subclass could run code (forbidden work, outside the recorders) on
``.detach()`` or ``.clone()``. The recorders also watch for numerical differentiation (numdiff_watch.py).
"""

from __future__ import annotations

import torch
from torch.autograd import Function
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

try:  # sandbox: numdiff_watch.py sits beside this file
    from numdiff_watch import _is_tensor, _Watch, watched_inputs
except ImportError:
    from course_nn.grading.child.numdiff_watch import _is_tensor, _Watch, watched_inputs


# Each torch function's and aten op's name, looked up once per process (the recorders see every op of
# every case). Keyed by identity (id, and the object itself held and compared with ``is``), never by
# equality: no object's own __eq__ or __hash__ can make it pass for another.
_NAMES: dict = {}
_OPS: dict = {}


class _FunctionRecorder(TorchFunctionMode):
    def __init__(self, seen, watch=None):
        super().__init__()
        self.seen = seen
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        hit = _NAMES.get(id(func))
        if hit is not None and hit[0] is func:
            name = hit[1]
        else:
            name = getattr(func, "__name__", str(func))
            _NAMES[id(func)] = (func, name)
        self.seen.add(name)
        if self.watch is not None:
            self.watch.left(name, args)  # values handed to numpy or Python (backward's watch counts them)
        return func(*args, **(kwargs or {}))


class _DispatchRecorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # never compiled; skipping the wrapper avoids importing torch._dynamo (~1-2 s)

    def __init__(self, seen, watch=None):
        super().__init__()
        self.seen = seen
        self.watch = watch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        known = _OPS.get(id(func))
        if known is None or known[4] is not func:
            name = func.overloadpacket.__name__
            known = _OPS[id(func)] = ("aten." + name, name, bool(getattr(func, "is_view", False)),
                                      name.endswith("_"), func)
        self.seen.add(known[0])
        out = func(*args, **(kwargs or {}))
        if self.watch is not None:
            self.watch.see(out, known[2], known[3])
            self.watch.flow_op(known[1], args, out)  # values brought in from numpy or Python, and where they go
        return out


META = "meta tensor"


def _kind(value) -> str:
    """What a returned value is: "Tensor", "None", "subclass:<name>", META or the type's name."""
    t = type(value)
    if t is torch.Tensor:
        if value.is_meta:  # shape and dtype only: there are no values to copy or check
            return META
        return "complex tensor" if value.is_complex() else "Tensor"  # complex values cannot be framed
    if value is None:
        return "None"
    if issubclass(t, torch.Tensor):
        return "subclass:" + str(t.__name__)[:40]
    return str(t.__name__)[:40]


def _plain(value):
    """A detached CPU copy of an exact, real torch.Tensor, or None (complex values cannot be framed, a
    meta tensor has no values to copy)."""
    if _is_tensor(value) and not value.is_complex() and not value.is_meta:
        value = value.detach()
        return (value if value.is_cpu else value.to("cpu")).clone()
    return None


def _changed(x, before, as_before: bool = True) -> bool:
    """Whether a call changed the probe's tensor ``x`` in place: it no longer equals ``before``, its value
    before the call (a case's input, or a copy), compared there as ``before``'s dtype (``as_before``) or
    as it is. Judged here, in the child, as the parent once judged the copies it was sent: a flag is as
    much the child's word as a copy was (the child could send either as it liked), and far less to frame."""
    if not (_is_tensor(x) and _is_tensor(before)) or x.is_complex():  # not compared (a copy was not sent)
        return False
    x = x.detach().to(before.device, before.dtype if as_before else x.dtype)
    return not torch.equal(x, before)


def _fresh(inputs: list, needs) -> list:
    """Copies of the case's inputs for one call; floating ones that need a gradient require it."""
    out = []
    for x, need in zip(inputs, needs):
        if _is_tensor(x):
            x = x.detach().clone()
            if x.is_floating_point() and need:
                x.requires_grad_(True)
        out.append(x)
    return out


def _items(value) -> tuple:
    t = type(value)
    if t in (list, tuple):
        return tuple(value)
    if t is dict:
        return tuple(dict.values(value))
    return (value,)


def _tensor_attrs(ctx) -> list[str]:
    """Names of ctx attributes holding tensors (they should have gone through save_for_backward)."""
    try:
        attrs = dict(vars(ctx))
    except TypeError:
        return []
    return [str(name) for name, value in attrs.items()
            if any(issubclass(type(v), torch.Tensor) for v in _items(value))]


def _graph_attrs(ctx, saved) -> list[str]:
    """Tensors kept on ctx that carry an autograd graph built inside forward (autograd doing the work).

    A saved output legitimately points back at ctx itself, and saved inputs are leaves here; any
    other ``grad_fn`` means forward ran differentiable ops under ``enable_grad`` and kept them.
    """

    def built_inside(t) -> bool:
        return _is_tensor(t) and t.grad_fn is not None and t.grad_fn is not ctx

    found = [f"saved_tensors[{i}]" for i, t in enumerate(saved or ()) if built_inside(t)]
    try:
        attrs = dict(vars(ctx))
    except TypeError:
        attrs = {}
    for name, value in attrs.items():
        if any(built_inside(v) for v in _items(value)):
            found.append(f"ctx.{name}")
    return found


MAX_GRADS = 64  # gradients of one backward sent back; the Functions take a few inputs


def _as_tuple(grads) -> tuple:
    return tuple(grads) if type(grads) in (tuple, list) else (grads,)


def _backward(cls, ctx, grad_output):
    """Call the user's backward the way autograd does (``vjp`` when that is what the class defines)."""
    user_fn = cls.vjp if getattr(cls, "vjp", Function.vjp) is not Function.vjp else cls.backward
    with torch.no_grad():
        return user_fn(ctx, grad_output)


def _describe(exc: BaseException, submission: str) -> str:
    try:
        from runner import describe_exception  # sandbox: runner.py sits beside this file
    except ImportError:
        from course_nn.grading.child.runner import describe_exception
    return describe_exception(exc, submission)


def _recorded(seen: set[str], record: bool, call, watch: _Watch | None = None):
    """Run ``call()`` with every torch function and aten op it reaches added to ``seen``.

    The recorders check their own integrity afterwards (still on their mode stacks, torch function
    handling still on, something seen when a tensor came back) and leave a ``recorder:`` mark when
    not. This teaches; it is no boundary: the static gate refuses code that could do this on purpose.
    """
    if not record:
        return call()
    before = len(seen)
    with _FunctionRecorder(seen, watch) as fmode, _DispatchRecorder(seen, watch) as dmode:
        out = call()
        if not torch._C._is_torch_function_enabled():
            seen.add("recorder:torch function handling was switched off")
        if fmode not in torch.overrides._get_current_function_mode_stack():
            seen.add("recorder:the function recorder was taken off its stack")
        from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

        if dmode not in _get_current_dispatch_mode_stack():
            seen.add("recorder:the dispatch recorder was taken off its stack")
    if isinstance(out, torch.Tensor) and len(seen) == before and out.numel() and not out.is_leaf:
        seen.add("recorder:a result came back but no torch operation was seen")
    return out


def _forward(cls, leaves: list, seen: set[str], record: bool, watch: _Watch | None = None):
    """A real forward through ``.apply``. Returns (output, ctx or None, why not a usable output)."""
    out = _recorded(seen, record, lambda: cls.apply(*leaves), watch)
    kind = _kind(out)
    if kind != "Tensor":
        return out, None, kind
    return out, out.grad_fn, ""


def _direct(cls, case, inputs, grad_output, submission, record=True):
    """Forward through .apply, then backward called directly on autograd's own ctx, calls recorded."""
    seen: set[str] = set()
    res = {"out": None, "out_type": "", "grads": None, "n_grads": -1, "error_forward": "", "error_backward": "",
           "exc_forward": "", "exc_backward": "", "not_implemented": False, "ctx_tensor_attrs": [],
           "saved_count": 0}
    leaves = _fresh(inputs, case["needs"])

    def failed(stage: str, exc: BaseException) -> dict:
        res[f"error_{stage}"] = _describe(exc, submission)
        res[f"exc_{stage}"] = type(exc).__name__
        res["not_implemented"] = isinstance(exc, NotImplementedError)
        res["ops"] = sorted(seen)
        return res

    watch = record
    watched = watched_inputs(leaves) if watch else []
    watch_forward = _Watch(watched) if watch else None
    try:
        out, ctx, bad = _forward(cls, leaves, seen, record, watch_forward)
    except BaseException as exc:
        return failed("forward", exc)
    if watch_forward is not None:
        watch_forward.flow.forward_output(out)  # forward's output may be computed in numpy
    res["ops_forward"] = sorted(seen)
    if watch_forward is not None:
        res["watch_forward"] = watch_forward.report()
    res["out_type"] = bad or "Tensor"
    res["changed_forward"] = [_changed(x, before) for x, before in zip(leaves, inputs)]
    if bad:  # not a plain tensor: nothing more is called on it
        res["ops"] = sorted(seen)
        return res
    res["out"] = _plain(out)
    res["out_device"] = str(out.device)
    if ctx is None:
        res["error_backward"] = "forward's output is not connected to autograd (did forward detach it?)"
        return res
    res["ctx_tensor_attrs"] = _tensor_attrs(ctx)
    # What backward may change is compared with the inputs as forward left them: the case's own
    # inputs where forward changed nothing (almost always), else a copy taken now.
    after_forward = [_plain(x) if changed else before
                     for x, before, changed in zip(leaves, inputs, res["changed_forward"])]
    pristine_grad_output = grad_output.clone()
    watch_backward = _Watch(watched, exits=True, flow=watch_forward.flow) if watch_forward is not None else None
    try:
        grads = _recorded(seen, record, lambda: _backward(cls, ctx, grad_output), watch_backward)
    except BaseException as exc:
        return failed("backward", exc)
    if watch_backward is not None:
        watch_backward.flow.returned(grads)
        res["watch_backward"] = watch_backward.report()
    grads = _as_tuple(grads)
    res["n_grads"] = len(grads)
    grads = grads[:MAX_GRADS]  # the count says the rest; a frame need not carry 300,000 of them
    res["grad_types"] = [_kind(g) for g in grads]
    res["grads"] = [_plain(g) for g in grads]
    res["grad_devices"] = [str(g.device) if _is_tensor(g) else "" for g in grads]
    res["changed_backward"] = [_changed(x, before, False) for x, before in zip(leaves, after_forward)]
    res["grad_output_changed"] = _changed(grad_output, pristine_grad_output)  # the upstream gradient
    res["ops"] = sorted(seen)
    return res


def _root(out: torch.Tensor, grad_output: torch.Tensor) -> tuple:
    """What autograd.grad starts from: sum(out · grad_output), whose gradient reaches ``out`` as exactly
    1 · grad_output (the mul saves nothing of ``out``, so a bumped version of ``out`` is still only the
    Function's to notice), without autograd.grad's check of an upstream gradient's shape, which imports
    sympy (0.3-0.4 s for every child, or for the zygote's warm-up). Where the two differ in shape or
    dtype (a mistake in forward), ``out`` and ``grad_output`` themselves, as before."""
    if out.shape != grad_output.shape or out.dtype != grad_output.dtype or out.is_complex():
        return out, grad_output
    return (out * grad_output).sum(), None


def _apply(cls, case, inputs, grad_output, submission):
    """The real autograd path: inspect the real ctx and bump saved tensors' version counters."""
    res = {"error": "", "graph_on_ctx": [], "ctx_tensor_attrs": [], "version_error": None}
    call_inputs = _fresh(inputs, case["needs"])
    leaves = [x for x in call_inputs if _is_tensor(x) and x.requires_grad]
    try:
        out = cls.apply(*call_inputs)
        if not _is_tensor(out) or _kind(out) == META:
            res["error"] = f"forward returned {_kind(out)}"
            return res
        ctx = out.grad_fn
        saved = ctx.saved_tensors if ctx is not None and hasattr(ctx, "saved_tensors") else ()
        res["graph_on_ctx"] = _graph_attrs(ctx, saved)
        res["ctx_tensor_attrs"] = _tensor_attrs(ctx) if ctx is not None else []
        if leaves and ctx is not None:
            root, upstream = _root(out, grad_output)
            grads = torch.autograd.grad(root, leaves, upstream, allow_unused=True, retain_graph=True)
            if not all(g is None or _is_tensor(g) for g in grads):
                return res
            # save_for_backward lets torch catch in-place changes to saved tensors: bump every
            # input's and the output's version and expect backward to refuse the stale values.
            with torch.no_grad():  # in-place under no_grad still bumps the version counter
                for t in [out, *call_inputs]:
                    if _is_tensor(t) and t.is_floating_point():
                        t.add_(0)
            try:
                torch.autograd.grad(root, leaves, upstream, allow_unused=True)
                res["version_error"] = False
            except RuntimeError as exc:
                res["version_error"] = "inplace" in str(exc) or "modified" in str(exc)
    except BaseException as exc:
        res["error"] = _describe(exc, submission)
    return res


def _checked_out(out) -> torch.Tensor:
    kind = _kind(out)
    if kind == META:
        raise TypeError("forward returned a tensor on the meta device (shape and dtype, no data); "
                        "return a real tensor on the input's device")
    if kind != "Tensor":
        raise TypeError(f"forward returned {kind.replace('subclass:', 'a tensor subclass ')}, expected a torch.Tensor")
    return out


def _gradcheck(cls, case, inputs, submission):
    """Forward values at perturbed points, for the parent's finite differences of the file's own forward.

    Backward's side is the case's direct call (a random upstream gradient, watched like every other), made
    before these: a backward asked afterwards could read the parent's own finite differences from what
    forward kept of them. (A forward that fakes its values beside a point it saw, to agree with a wrong
    backward, is the parent's to see: it compares them with the true slopes.)"""
    eps = float(case["eps"])
    points = case["points"].tolist()
    res = {"plus": None, "minus": None, "error": "", "exc": ""}
    try:
        plus, minus = [], []
        with torch.no_grad():
            for input_idx, flat_idx in points:
                for sign, bucket in ((1.0, plus), (-1.0, minus)):
                    moved = _fresh(inputs, [False] * len(inputs))
                    moved[input_idx].view(-1).narrow(0, flat_idx, 1).add_(sign * eps)  # x[j] += s·eps, one op
                    bucket.append(_plain(_checked_out(cls.apply(*moved))).reshape(-1))
        res["plus"] = torch.stack(plus) if plus else None
        res["minus"] = torch.stack(minus) if minus else None
    except BaseException as exc:
        res["error"] = _describe(exc, submission)
        res["exc"] = type(exc).__name__
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
    inputs = [x.to(device) if _is_tensor(x) else x for x in case["inputs"]]
    grad_output = case["grad_output"].to(device)
    # Every backward the grader asks for is watched, whatever its case: a file can tell calls apart (a one-hot
    # upstream gradient, the order of the units) and would differentiate numerically where no one looks.
    result = {"direct": _direct(cls, case, inputs, grad_output.clone(), submission)}
    if case["kind"] == "gradcheck":  # the perturbed forwards after backward (see _gradcheck)
        result["gradcheck"] = _gradcheck(cls, case, inputs, submission)
        return result
    if case["kind"] == "main":  # autograd's own path once per random case; the edge cases test the direct call
        result["apply"] = _apply(cls, case, inputs, grad_output.clone(), submission)
    return result
