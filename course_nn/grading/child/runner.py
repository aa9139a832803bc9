"""The sandboxed child: imports one submission and runs parent-chosen probes on it.

Runs as ``python -I -B runner.py SUBMISSION_PATH`` in a folder of its own, with only the standard
library and torch on ``sys.path``. It never scores: it returns plain tensors and strings, framed on
the original stdout (length-prefixed frames: JSON plus one raw tensor blob, see framing.py; no pickle).
Whatever student code prints goes to stderr, which the parent caps.

Protocol (parent -> child, one frame on stdin): {"probe": module name, "module_name": str,
"units": [[task, visible], ...], "cases": [{"id": int, "task": str, "visible": bool, ...public inputs}],
"memory_bytes": int}
Child -> parent frames: {"event": "ready"}, {"event": "import", "ok": bool, "error": str},
{"event": "start", "unit": i}, {"event": "result", "unit": i, "results": {case id: result}},
{"event": "done"}. Framing is in framing.py (shared with the parent).

Nothing here is a security boundary: a submission shares this process and could rewrite any of
it. The parent accepts exactly one well-formed result per case id it issued, scores alone, and
relies on the static gate (never run here) and the kernel's containment for the rest. The
tamper check below only teaches an honest student who monkeypatched something by accident.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback


def _exception_name(exc: BaseException) -> str:
    try:
        return str(type.__dict__["__name__"].__get__(type(exc)))  # type's own slot: no metaclass in the way
    except BaseException:  # noqa: BLE001 - describing must never raise
        return "an exception"


def _message(exc: BaseException) -> str:
    """``str(exc)``, which runs the submission's own ``__str__``: whatever that does (raises, even an
    exception of its own class) leaves a placeholder, never an error while describing an error."""
    try:
        text = str(exc)
        return text if type(text) is str else ""
    except BaseException:  # noqa: BLE001 - describing must never raise
        return "(its message could not be shown: turning it into text raised another error)"


def not_implemented(exc: BaseException, submission: str) -> bool:
    """Whether ``exc`` is the submission saying a task is not done yet: a NotImplementedError raised by
    the submission's own code (a stub's), not one torch raised for a value (a copy out of a meta tensor)."""
    if not isinstance(exc, NotImplementedError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and os.path.basename(frames[-1].filename) == os.path.basename(submission)


def describe_exception(exc: BaseException, submission: str) -> str:
    """One line: the exception and the last line of the student's file it passed through."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if os.path.basename(frame.filename) == os.path.basename(submission):
            where = f" (line {frame.lineno} of {os.path.basename(submission)}: {(frame.line or '').strip()})"
            break
    text = f"{_exception_name(exc)}: {_message(exc)}".strip()
    text = " ".join(text.split())
    if len(text) > 400:
        text = text[:400] + "..."
    return text + where


def limit_memory(extra_bytes: int) -> None:
    """Cap the address space at what torch already mapped plus ``extra_bytes``."""
    if extra_bytes <= 0:
        return
    try:
        import resource

        with open("/proc/self/status") as fh:
            vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        cap = vm + extra_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except Exception:  # not Linux, or no /proc: the parent's RSS watchdog still applies
        pass


def load_submission(path: str, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _beside(module, folder: str) -> bool:
    """Whether ``module`` was loaded from ``folder`` (the probes' helpers live beside them)."""
    path = getattr(module, "__file__", None)
    return isinstance(path, str) and os.path.dirname(os.path.abspath(path)) == folder


def _load_probe(name: str):
    try:
        return importlib.import_module(name)  # copied next to this file in the sandbox
    except ImportError:
        return importlib.import_module(f"course_nn.grading.child.{name}")  # in-process use


def _scrub_sys_path(submission_dir: str) -> None:
    """Keep the standard library and site-packages; drop anything that could reach the repo."""
    keep = [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p or p.startswith(sys.base_prefix))]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [submission_dir, here, *keep]
    # Editable installs put finders on sys.meta_path that could import the course package (and a
    # student could walk from it to solutions/): the child needs none of them.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                        and "editable" not in getattr(f, "__name__", "").lower()]


# What student code must not replace: the probes, this runner, and torch's autograd entry points.
WATCHED_TORCH = ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
                 "torch.inference_mode", "torch.enable_grad", "torch.set_grad_enabled", "torch.no_grad",
                 "torch.overrides.TorchFunctionMode", "torch.utils._python_dispatch.TorchDispatchMode",
                 "torch.autograd.Function", "torch.autograd.Function.apply", "torch.save", "torch.load")


_MODULE_PARTS: dict[str, int] = {}  # watched path -> how many of its leading parts first named a module


def _resolve(path: str):
    import importlib as _il

    parts = path.split(".")
    known = _MODULE_PARTS.get(path)
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if known is not None and i > known:
            # Found not to be a module the first time: only a module put in sys.modules since counts.
            # (Asking the import system again costs a failed search per name, ~1 ms per check.)
            obj = sys.modules.get(name)
            if obj is None:
                continue
        else:
            try:
                obj = _il.import_module(name)
            except ImportError:
                continue
            _MODULE_PARTS.setdefault(path, i)
        for attr in parts[i:]:
            if isinstance(obj, type):  # the stored descriptor: lookups of methods make new objects
                obj = next((vars(k)[attr] for k in obj.__mro__ if attr in vars(k)), None)
            else:
                obj = getattr(obj, attr, None)
        return obj
    return None


def fingerprint(modules) -> dict[str, tuple[int, int]]:
    """Identity of every function, class attribute and watched torch entry point."""
    marks: dict[str, tuple[int, int]] = {}

    def mark(name: str, obj) -> None:
        obj = getattr(obj, "__func__", obj)  # a bound classmethod is a new object at every lookup
        marks[name] = (id(obj), id(getattr(obj, "__code__", None)))

    for module in modules:
        for name, obj in list(vars(module).items()):
            mark(f"{module.__name__}.{name}", obj)
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                for attr, value in list(vars(obj).items()):
                    mark(f"{module.__name__}.{name}.{attr}", value)
    for path in WATCHED_TORCH:
        obj = _resolve(path)
        mark(path, obj)
        for method in ("__enter__", "__exit__", "__init__"):
            if isinstance(obj, type) and method in vars(obj):
                mark(f"{path}.{method}", vars(obj)[method])
    return marks


def tampered(before: dict, modules) -> list[str]:
    after = fingerprint(modules)
    return sorted(name for name, value in before.items() if after.get(name) != value)


def run_case_guarded(probe, module, case: dict, submission: str, ctrl_c: bool = True) -> dict:
    """One probe call; whatever escapes it (sys.exit included) fails that case only: a probe must never
    take the runner down. ``ctrl_c``: a KeyboardInterrupt stops the run, as Ctrl-C of a student's own check
    in their process should; in the sandboxed child no terminal reaches (False), it is the file raising it,
    and it fails the case with its name like any other exception (not a dead child's exit status)."""
    try:
        return probe.run_case(module, case, submission)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and ctrl_c:
            raise
        return {"error": describe_exception(exc, submission), "stage": "probe"}


def _unsendable(framing, result, budget: int) -> str:
    """Why one case's result cannot go back to the parent within its share of a frame ('' if it can)."""
    try:
        size = len(framing.encode(result))
    except framing.FrameTooLarge:
        size = budget + 1
    except framing.FrameError:  # an object outside the frame's types (the probes send none)
        return "it holds a value the grader cannot read back (return numbers, tensors, lists, tuples or dicts)"
    if size > budget:
        return f"it is too large to send back to the grader (more than {budget >> 20} MiB for one case)"
    return ""


def _result_frame(framing, index: int, results: dict) -> bytes:
    """One unit's results as a frame. A result the frame cannot carry (too large: a list of 300,000 tensors,
    each under the per-tensor cap) fails its own case with a line that says so; the other cases keep theirs,
    and the child does not die with a status a student would read as a sys.exit of their own."""
    frame = {"event": "result", "unit": index, "results": results}
    try:
        return framing.encode(frame)
    except framing.FrameError:
        pass
    budget = (framing.MAX_FRAME - 65536) // max(1, len(results))  # an equal share per case, room for the rest
    for case_id, result in list(results.items()):
        why = _unsendable(framing, result, budget)
        if why:
            failed = {"error": f"this case's result could not be graded: {why}", "stage": "probe"}
            if isinstance(result, dict) and "tampered" in result:  # the mark survives the replacement
                failed["tampered"] = result["tampered"]
            results[case_id] = failed
    try:
        return framing.encode(frame)
    except framing.FrameError:  # cannot happen with the shares above; never a dead child if it does
        return framing.encode({**frame, "results": {k: {"error": "the results were too large to send back",
                                                         "stage": "probe"} for k in results}})


def main() -> None:
    proto = os.dup(1)  # the protocol channel; everything printed afterwards goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)  # -I leaves the script's folder off sys.path; framing and probes live here
    import framing

    submission = os.path.abspath(sys.argv[1])
    import torch  # noqa: F401  (imported while the parent prepares the cases)

    framing.write_frame(proto, {"event": "ready"})
    job = framing.read_frame(sys.stdin.buffer)
    _scrub_sys_path(os.path.dirname(submission))
    probe = _load_probe(job["probe"])
    limit_memory(int(job.get("memory_bytes", 0)))
    # The probe, this runner and every helper the probe imported from its own folder (the watch); that
    # folder, not the runner's: a zygote or contain.py imported the probes from the course before the fork.
    helpers = {sys.modules.get(str(getattr(v, "__module__", ""))) for v in list(vars(probe).values())}
    folder = os.path.dirname(os.path.abspath(str(getattr(probe, "__file__", ""))))
    watched = (probe, sys.modules[__name__], *(m for m in helpers if m not in (None, probe) and _beside(m, folder)))
    before = fingerprint(watched)
    try:
        module = load_submission(submission, job["module_name"])
    except BaseException as exc:  # SyntaxError, SystemExit at import, anything
        if isinstance(exc, SystemExit):
            error = f"your file called sys.exit({exc.code!r}) while being imported"
        else:
            error = describe_exception(exc, submission)
        framing.write_frame(proto, {"event": "import", "ok": False, "error": error})
        os._exit(0)
    framing.write_frame(proto, {"event": "import", "ok": True, "error": ""})
    # Units run in the order given: every task's visible cases first, then the hidden ones, so an
    # exception a visible case shows a student cannot carry what a hidden case revealed.
    for index, (task, visible) in enumerate(job["units"]):
        framing.write_frame(proto, {"event": "start", "unit": index})
        results = {}
        for case in job["cases"]:
            if case["task"] != task or bool(case.get("visible")) != visible:
                continue
            results[case["id"]] = run_case_guarded(probe, module, case, submission, ctrl_c=False)
        changed = tampered(before, watched)
        if changed:  # the submission replaced grader or autograd code: every result is suspect
            for r in results.values():
                if isinstance(r, dict):
                    r["tampered"] = changed
        framing.write_encoded(proto, _result_frame(framing, index, results))
    framing.write_frame(proto, {"event": "done"})
    os._exit(0)  # skip atexit handlers a submission may have registered


if __name__ == "__main__":
    main()
