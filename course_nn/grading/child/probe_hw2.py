"""Child-side probes for hw2: call the submission's functions on parent-chosen inputs.

Standard library and torch only (this file is copied into the sandbox). Nothing here decides a
score: each probe returns what the student's code returned (as plain tensors, numbers, lists and
dicts), what it left in the inputs it was given, and — for the MLP — which of the supplied
Functions it called. The parent computes every expected value itself.

The MLP is built with torch-backed Functions handed in by the grader (given_hw2.py: each call marks
its output and its gradients), so hw2 is graded independently of the student's hw1. ``train_epoch`` runs with a
correct ``sgd_step`` patched into the submission's namespace, so a mistake in ``sgd_step`` costs only
that task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _runner():
    try:
        import runner  # sandbox: runner.py sits beside this file
    except ImportError:
        import course_nn.grading.child.runner as runner
    return runner


def _describe(exc: BaseException, submission: str) -> str:
    return _runner().describe_exception(exc, submission)


_EXACT_TENSORS = (torch.Tensor, torch.nn.Parameter)


MAX_ITEMS = 10_000  # items in one list, tuple or dict of a result; the tasks return a few dozen at most


def plain(value, depth: int = 0):
    """A copy made only of what ``torch.load(weights_only=True)`` accepts.

    Types are checked exactly before anything is called on a value: a tensor subclass (or an
    int subclass) returned by the submission could run its own code in ``.detach()`` or ``__float__``.
    """
    t = type(value)
    if t in _EXACT_TENSORS:
        return value.detach().to("cpu").clone()
    if value is None or t in (bool, int, float, str):
        return value
    if issubclass(t, torch.Tensor):
        return f"<tensor subclass {str(t.__name__)[:40]}>"
    if depth > 4:
        return f"<{_type_name(value)}>"
    if t in (list, tuple, dict) and len(value) > MAX_ITEMS:  # no frame carries it whole: say what it was
        return f"<{t.__name__} of {len(value)} items>"
    if t in (list, tuple):
        items = [plain(v, depth + 1) for v in value]
        return tuple(items) if t is tuple else items
    if t is torch.Size:
        return tuple(int(v) for v in tuple.__iter__(value))
    if t is dict:
        return {str(k): plain(v, depth + 1) for k, v in dict.items(value) if type(k) in (str, int)}
    if str(getattr(t, "__module__", "")) == "numpy":  # numpy scalars and arrays
        try:
            return torch.as_tensor(value).detach().clone()
        except Exception:
            pass
    return f"<{_type_name(value)}>"


_SAFE_MODULES = ("builtins", "torch", "numpy", "collections", "types")


def _type_name(value) -> str:
    """The type's name for feedback; a class the submission made (its name could spell out hidden
    inputs) is just "object"."""
    t = type(value)
    module = str(getattr(t, "__module__", "") or "")
    name = str(t.__name__)[:40] if module.split(".")[0] in _SAFE_MODULES else "object"
    return ("tensor subclass " if issubclass(t, torch.Tensor) and t not in _EXACT_TENSORS else "") + name


try:  # sandbox: given_hw2.py sits beside this file
    from given_hw2 import MARKED, counts, forget_calls, reached, runs, torch_functions  # noqa: F401
except ImportError:
    from course_nn.grading.child.given_hw2 import MARKED, counts, forget_calls, reached, runs, torch_functions  # noqa: F401



# ----------------------------------------------------------------------------------------------
# One probe per task


def _call(fn, args: list) -> dict:
    """Call with copies of ``args``; report the value and what the copies look like afterwards."""
    given = [a.clone() if isinstance(a, torch.Tensor) else
             [t.clone() if isinstance(t, torch.Tensor) else t for t in a] if isinstance(a, list) else a
             for a in args]
    value = fn(*given)
    return {"value": plain(value), "value_type": _type_name(value), "inputs_after": plain(given)}


def _step_target(case: dict):
    coef, c0 = case["coef"].double(), float(case["c0"])
    calls = {"n": 0, "bad": 0}

    def f(x):
        calls["n"] += 1
        t = torch.as_tensor(x, dtype=torch.float64)
        out = c0 + (coef[:, 0] * torch.sin(coef[:, 1] * t.unsqueeze(-1) + coef[:, 2])).sum(-1)
        return out

    return f, calls


def _mlp_model(module, case: dict, calls: dict, dtype, perturb: dict, nodes: list):
    perturb["on"] = False  # no marks while the model is built: forget_calls starts them
    model = module.MLP(list(case["sizes"]), activation=case["activation"],
                       functions=torch_functions(calls, perturb, nodes))
    if not issubclass(type(model), torch.nn.Module):
        raise TypeError(f"MLP(...) built a {_type_name(model)}, not a torch.nn.Module")
    model.to(dtype)
    params = list(model.parameters())
    if not all(type(p) in _EXACT_TENSORS for p in params):
        raise TypeError("MLP(...).parameters() must yield torch.nn.Parameter objects")
    shapes = [tuple(p.shape) for p in params]
    modules = sorted({_type_name(m) for m in model.modules() if m is not model})
    ok = len(params) == len(case["weights"]) and all(
        tuple(p.shape) == tuple(w.shape) for p, w in zip(params, case["weights"]))
    if ok:
        with torch.no_grad():
            for p, w in zip(params, case["weights"]):
                p.copy_(w.to(p.dtype))
    return model, params, {"shapes": shapes, "submodules": modules, "loaded": ok,
                           "dtypes": [str(p.dtype) for p in params]}


def _probe_mlp_forward(module, case: dict) -> dict:
    calls, perturb, nodes = {}, dict(case.get("perturb") or {}), []
    model, params, info = _mlp_model(module, case, calls, torch.float64, perturb, nodes)
    res = dict(info)
    if not info["loaded"]:
        return res
    for p in params:
        p.grad = None
    x = case["x"].clone().requires_grad_(True)
    forget_calls(calls, perturb)
    out = model(x)
    res["calls"] = counts(calls)
    if type(out) is torch.Tensor and out.requires_grad:  # no graph at all has its own message
        res["reached"] = reached(out, nodes)
    res["out"] = plain(out)
    res["out_type"] = _type_name(out)
    if type(out) is not torch.Tensor or out.shape != case["grad_output"].shape:
        return res
    if not out.requires_grad:
        res["no_graph"] = True
        return res
    (out * case["grad_output"]).sum().backward()
    res["grads"] = [plain(p.grad) for p in params]
    res["x_grad"] = plain(x.grad)
    res["runs"] = runs(calls)
    return res


def train_spiral(forward, params: list, case: dict) -> None:
    """The grader's training loop on a spiral case (SGD with momentum, minibatches in a seeded
    order). The parent trains its own MLP with it too, when it needs the reference's accuracy."""
    x, y = case["x"].float(), case["y"]
    g = torch.Generator().manual_seed(int(case["seed"]))
    velocity = [torch.zeros_like(p) for p in params]
    batch, lr, momentum = int(case["batch"]), float(case["lr"]), float(case["momentum"])
    for _ in range(int(case["epochs"])):
        order = torch.randperm(x.shape[0], generator=g)
        for k in range(0, x.shape[0], batch):
            idx = order[k:k + batch]
            logits = forward(x[idx])
            if type(logits) is not torch.Tensor:
                raise TypeError(f"forward returned {_type_name(logits)}, expected a torch.Tensor")
            loss = F.cross_entropy(logits, y[idx])
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            with torch.no_grad():
                for p, v, gr in zip(params, velocity, grads):
                    if gr is not None:
                        v.mul_(momentum).add_(gr)
                        p.sub_(lr * v)


def _probe_mlp_spiral(module, case: dict) -> dict:
    """Train the student's MLP with the grader's own loop (SGD with momentum); return the weights."""
    calls, perturb, nodes = {}, dict(case.get("perturb") or {}), []
    model, params, info = _mlp_model(module, case, calls, torch.float32, perturb, nodes)
    res = dict(info)
    if not info["loaded"]:
        return res
    x, y = case["x"].float(), case["y"]
    forget_calls(calls, perturb)
    out = model(x[:8])  # one forward and backward with the Functions' marks: do they carry the computation?
    res["calls"] = counts(calls)
    if type(out) is torch.Tensor and out.requires_grad:  # no graph at all has its own message
        res["reached"] = reached(out, nodes)
    nodes.clear()
    res["flow_out"] = plain(out) if type(out) is torch.Tensor else None
    if type(out) is torch.Tensor and out.requires_grad:
        grads = torch.autograd.grad(out.sum(), params, allow_unused=True)  # not into .grad: training is untouched
        res["flow_grads"] = [plain(g) for g in grads]
    perturb["on"] = False  # training uses the plain Functions
    train_spiral(model, params, case)
    res["weights"] = [plain(p) for p in params]
    logits = model(x)
    if type(logits) is torch.Tensor:
        res["train_loss"] = float(F.cross_entropy(logits, y).detach())
    res["runs"] = runs(calls)  # the marked results' backward runs, training included
    return res


def _reference_sgd_step(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.sub_(lr * p.grad)
                p.grad = None


def _probe_sgd_step(module, case: dict) -> dict:
    params = [p.clone().requires_grad_(True) for p in case["params"]]
    for p, g in zip(params, case["grads"]):
        p.grad = None if g is None else g.clone()
    value = module.sgd_step((p for p in params), float(case["lr"]))
    return {"value_type": _type_name(value), "params": [plain(p) for p in params],
            "grads": [plain(p.grad) for p in params], "requires_grad": [bool(p.requires_grad) for p in params],
            "is_leaf": [bool(p.is_leaf) for p in params]}


class MLP(torch.nn.Module):
    """The grader's own MLP (parameters weight_1, bias_1, ...), for grading train_epoch alone.

    Named MLP because a student's error message may name its class: it should read like theirs."""

    def __init__(self, weights: list, activation: str):
        super().__init__()
        self.n = len(weights) // 2
        self.act = torch.relu if activation == "relu" else torch.sigmoid
        for d in range(1, self.n + 1):
            setattr(self, f"weight_{d}", torch.nn.Parameter(weights[2 * d - 2].clone()))
            setattr(self, f"bias_{d}", torch.nn.Parameter(weights[2 * d - 1].clone()))

    def forward(self, x):
        for d in range(1, self.n + 1):
            x = F.linear(x, getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}"))
            if d < self.n:
                x = self.act(x)
        return x


def _probe_train_epoch(module, case: dict) -> dict:
    model = MLP(case["weights"], case["activation"])
    loss_calls = {"n": 0}

    def loss_fn(logits, target):
        loss_calls["n"] += 1
        if case["loss"] == "mse":
            return F.mse_loss(logits, target)
        return F.cross_entropy(logits, target)

    batches = [(x.clone(), y.clone()) for x, y in case["batches"]]
    params = list(model.parameters())  # the probe's own hold: what train_epoch does to the model's registry changes nothing
    saved = module.__dict__.get("sgd_step", None)
    lent = [True]

    def sgd_step(parameters, lr):
        """The grader's step, lent to train_epoch for this one case: kept and called later (for the hidden
        sgd_step cases, which run in the same process), it refuses."""
        if not lent[0]:
            raise RuntimeError("sgd_step called a step the grader lent to train_epoch while it was graded; "
                               "sgd_step must update the parameters itself: p ← p - lr · p.grad")
        return _reference_sgd_step(parameters, lr)

    module.sgd_step = sgd_step  # grade train_epoch on its own
    try:
        value = module.train_epoch(model, batches, loss_fn, float(case["lr"]))
    finally:
        lent[0] = False
        if saved is not None:
            module.sgd_step = saved
        else:
            module.__dict__.pop("sgd_step", None)
    return {"value": _number(value), "value_type": _type_name(value), "loss_calls": loss_calls["n"],
            "params": [plain(p) for p in params]}


def _number(value) -> float | None:
    """A returned loss as a float: a Python number, a one-element tensor, or a numpy scalar (``np.mean`` of the
    losses is a numpy.float64, a float subclass of numpy's own; a class of the file's is never numpy's)."""
    if type(value) in (int, float):
        return float(value)
    if type(value) is torch.Tensor and value.numel() == 1:
        return float(value.detach().reshape(()))
    if str(getattr(type(value), "__module__", "")) == "numpy":
        try:
            t = torch.as_tensor(value)
        except Exception:
            return None
        return float(t.reshape(())) if t.numel() == 1 and not t.is_complex() else None
    return None


def _probe_feature_map(module, case: dict) -> dict:
    """The submission's features of the parent's points: of all of them, of a reordered subset and
    of one point (is each row's feature vector its own?). The labels never come here: the parent
    trains and scores its own classifier on what comes back."""
    X = case["X"]
    given = X.clone()
    value = module.feature_map(given)
    subset = module.feature_map(X[case["subset"]].clone())
    k = int(case["single"])
    single = module.feature_map(X[k:k + 1].clone())
    return {"value": plain(value), "value_type": _type_name(value), "subset_value": plain(subset),
            "single_value": plain(single), "inputs_after": [plain(given)]}


def run_case(module, case: dict, submission: str) -> dict:
    """Run one parent-chosen case against ``case['task']`` of the submission.

    One intra-op thread: the tensors are tiny, and in-process runs (students' pytest) on a busy
    machine were up to 100x slower with torch's default thread pool.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_case(module, case, submission)
    finally:
        torch.set_num_threads(threads)


def _run_case(module, case: dict, submission: str) -> dict:
    task = case["task"]
    target = getattr(module, task, None)
    if target is None or not callable(target):
        return {"missing": True}
    try:
        if task == "count_parameters":
            return _call(target, [list(case["sizes"])])
        if task == "perceptron_predict":
            return _call(target, [case["X"], case["w"], case["b"]])
        if task == "perceptron_train":
            return _call(target, [case["X"], case["y"], int(case["epochs"])])
        if task == "xor_perceptrons":
            return _call(target, [])
        if task == "relu_interpolant":
            return _call(target, [case["knots_x"], case["knots_y"]])
        if task == "step_approximation":
            f, calls = _step_target(case)
            res = _call(target, [f, float(case["lo"]), float(case["hi"]), float(case["tol"]),
                                 float(case["lipschitz"])])
            res["f_calls"] = calls["n"]
            return res
        if task == "collapse_linear":
            return _call(target, [list(case["weights"]), list(case["biases"])])
        if task == "MLP":
            return _probe_mlp_spiral(module, case) if case["mode"] == "spiral" else _probe_mlp_forward(module, case)
        if task == "sgd_step":
            return _probe_sgd_step(module, case)
        if task == "train_epoch":
            return _probe_train_epoch(module, case)
        if task == "feature_map":
            return _probe_feature_map(module, case)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"error": _describe(exc, submission), "exc_type": type(exc).__name__,
                "not_implemented": _runner().not_implemented(exc, submission)}
    return {"error": f"the grader has no probe for {task!r}"}

