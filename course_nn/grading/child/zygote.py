"""A zygote: an interpreter that has imported torch once and forks one contained child per submission.

Started by the grader as ``python -I -B zygote.py FD[,FD...] GRADER_PID`` (one end of a socketpair per grading
worker: a batch shares one zygote between its workers), it imports
torch and the child's own code (runner, framing, probes — standard library and torch only) and
nothing else: no secret, no case, no reference ever reaches it. Its one warm-up runs on a single
thread, so no thread pool exists when it forks (it reports its thread count; the grader falls back
to fresh interpreters when that is not 1). PrairieLearn's Python zygote is the model.

For each request (JSON, with the child's stdin/stdout/stderr passed as file descriptors) it forks
one child through contain.py, the same containment a fresh child gets, and the child runs the
runner. The grader talks to it through the pipes exactly as to a fresh child.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

gc.disable()  # until the warm-up is over: importing torch runs ~400 collections that find almost nothing
import contain  # noqa: E402

contain.libc.prctl(contain.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the grader; before the slow imports
if len(sys.argv) > 2 and os.getppid() != int(sys.argv[2]):
    os._exit(1)  # the grader died before that took effect

import framing  # noqa: E402,F401
import probe_hw1  # noqa: E402,F401
import probe_hw2  # noqa: E402,F401
import runner  # noqa: E402,F401
import torch  # noqa: E402,F401  the heavy import, done once


def _warm_up() -> None:
    """Run once what every child runs first (autograd through a custom Function under the recorders'
    modes, framing), so lazy imports inside torch are paid here, once, and not by every forked child.
    (autograd.grad starts from a scalar, as probe_hw1._apply does: with an upstream gradient it would
    import torch.fx's symbolic shapes and sympy, 0.3-0.4 s.) No student code, no case; single-threaded
    (main() reports the thread count afterwards)."""
    from probe_hw1 import _DispatchRecorder, _FunctionRecorder  # the recorders every child runs under

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    seen: set[str] = set()
    with _FunctionRecorder(seen), _DispatchRecorder(seen):
        y = Twice.apply(x)
        torch.autograd.grad((y * torch.ones(3, dtype=torch.float64)).sum(), [x], retain_graph=True)  # as _apply
    with torch.no_grad():
        Twice.backward(y.grad_fn, torch.ones(3, dtype=torch.float64))
    payload, _rest = framing.split(framing.encode({"a": [x.detach()], "b": "c"}))
    framing.decode(payload)
    try:  # a head start, not a need: a warm-up that breaks must not cost the batch its zygote
        _warm_probe()
    except Exception:  # noqa: BLE001
        pass
    # What the zygote holds stays out of every child's collections (and their page copies). Not
    # collected first: that walk (0.1 s) would free only the warm-up's own few thousand objects.
    gc.freeze()
    gc.enable()  # every child collects as any Python process does


def _warm_probe() -> None:
    """Run the hw1 probe once per kind of case (main, edge, gradcheck) on a Function of this file's
    own, made-up inputs, frame its results and take the runner's tamper fingerprint: what every child
    would otherwise pay on its first case (torch's per-op Python objects for the probe's and common ops,
    the watch's and framing's caches, the import searches of the fingerprint: about 40 ms a child).
    Nothing from a grading: no case, no student code, no reference."""
    import types

    class Warm(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, y):
            ctx.save_for_backward(x, w)
            h = torch.sigmoid(x.mm(w.t())).clamp(min=0.0) + torch.exp(-x.abs()).sum(dim=1, keepdim=True)
            p = torch.where(h > 0.5, h, torch.zeros_like(h)).log_softmax(dim=1)
            return -(p.gather(1, y.unsqueeze(1)).mean() + torch.logsumexp(h, dim=1).mean() * 0.5)

        @staticmethod
        def backward(ctx, grad_output):
            x, w = ctx.saved_tensors
            s = torch.sigmoid(x.mm(w.t()))
            g = (s * (1 - s)).t().mm(x) * grad_output / x.shape[0]
            return (torch.ones_like(x) * grad_output).reshape(x.shape), g.reshape(-1).view(w.shape), None

    x = torch.arange(6, dtype=torch.float64).reshape(3, 2) / 7 + 0.1
    w = torch.arange(4, dtype=torch.float64).reshape(2, 2) / 5 - 0.3
    y = torch.tensor([0, 1, 0])
    module = types.SimpleNamespace(Warm=Warm)
    base = {"task": "Warm", "inputs": [x, w, y], "needs": [True, True, False], "device": "cpu",
            "grad_output": torch.tensor(1.5, dtype=torch.float64)}
    cases = [{**base, "id": 1, "kind": "main"}, {**base, "id": 2, "kind": "edge"},
             {**base, "id": 3, "kind": "gradcheck", "eps": 1e-6,
              "points": torch.tensor([[0, 0], [1, 3]], dtype=torch.int64)},
             {**base, "id": 4, "kind": "main", "inputs": [x.float(), w.float(), y],
              "grad_output": torch.tensor(1.5)}]
    results = {c["id"]: probe_hw1.run_case(module, c, "warm.py") for c in cases}
    payload, _rest = framing.split(framing.encode({"event": "result", "unit": 0, "results": results}))
    framing.decode(payload)
    runner.tampered(runner.fingerprint((probe_hw1, runner)), (probe_hw1, runner))


def _answer(req: dict, fds: list[int]) -> dict:
    if req["op"] == "fork":
        pid = contain.spawn(req, fds, contain.run_student)
        for fd in fds:
            os.close(fd)
        return {"pid": pid}
    # Reap only the child asked about, when its worker asks: until then it stays a zombie, so its
    # pid cannot be reused by another process that a worker's kill would then hit.
    pid = int(req["pid"])
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return {"code": -signal.SIGKILL}  # not (or no longer) a child of ours
    if done == 0:
        return {"code": None}
    contain.reaped(pid)
    return {"code": os.waitstatus_to_exitcode(status)}


def main() -> None:
    """Serve every client socket (one per grading worker) until all of them are closed."""
    import selectors

    _warm_up()
    sel = selectors.DefaultSelector()
    hello = json.dumps({"ready": True, "threads": contain.thread_count()}).encode()
    for fd in sys.argv[1].split(","):
        sock = socket.socket(fileno=int(fd))  # SOCK_SEQPACKET: one message per request and answer
        sock.send(hello)
        sel.register(sock, selectors.EVENT_READ)
    while sel.get_map():
        for key, _events in sel.select():
            sock = key.fileobj
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 3)
            except OSError:
                msg, fds = b"", []
            if not msg:  # that worker is done (or gone)
                sel.unregister(sock)
                sock.close()
                continue
            try:
                answer = _answer(json.loads(msg), fds)
            except Exception as exc:  # noqa: BLE001 - the grader hears why (and uses a fresh child)
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                sock.send(json.dumps(answer).encode())
            except OSError:
                pass


if __name__ == "__main__":
    main()
