"""Draw backpropagation node by node: your Functions' values and gradients beside torch's.

Builds a tiny network from an implementation of the hw1 Functions, runs one forward pass and one
backward pass on one small batch (float64), and records for every node (every .apply) the values it
received, its output, the upstream gradient dJ/d(output) it received and the gradients its backward
returned. Your backward is called directly, node by node, so what it returns is seen exactly as
written (autograd would silently sum an unsummed bias gradient). The same network then runs with
torch's built-ins from the same weights and data, and every node gets a status:

  ok        equals torch
  wrong     differs from torch for the very inputs and upstream gradient it received, or its
            backward wrote into grad_output or an input in place (the hint check gives): look here
  error     raised, or returned a wrong shape, a wrong number of gradients or a None
  inherits  computes what torch computes from what it received, but what it received already
            differed (or it was never reached)

The first wrong node along backpropagation is drawn in red with torch's value and the likely
mistake. Networks (--net): mlp (2 inputs, 3 sigmoid units, 2 classes, cross-entropy), relu (the
same with ReLU), regression (1-D input, squared error), paths (one value feeds two layers whose
outputs are added: its gradient is the sum (+=) of both paths).

Prints a table (node, forward value, gradient, yours, torch's, status; from the loss towards the
input) and what is red and why. Exit status 0 when nothing is red, 1 when a node is wrong or
raised, 2 for bad input (--out or --json onto the traced functions.py included).

examples:
  course-nn trace --impl functions.py --out trace.png
  course-nn trace --impl functions.py --net paths --json trace.json
  course-nn trace --impl functions.py --logdir runs      # then: tensorboard --logdir runs
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from course_nn.errors import UsageError

FORMATS = (".png", ".svg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from course_nn.trace import NETS

    parser.add_argument("--impl", default="solutions",
                        help="whose Functions: solutions (default), assignments, torch, or a path to a functions.py")
    from course_nn.cli_types import non_negative_int

    parser.add_argument("--net", default="mlp", choices=tuple(NETS),
                        help="the network: " + "; ".join(f"{k}: {v}" for k, v in NETS.items()))
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                        help="seed for the data and the weights (default 0)")
    parser.add_argument("--out", metavar="FILE", help="write the picture to FILE (.png or .svg)")
    parser.add_argument("--json", metavar="FILE",
                        help="write every recorded value to FILE (keys: first_wrong, nodes[] with name, op, status, ...)")
    parser.add_argument("--logdir", metavar="DIR",
                        help="also write a TensorBoard run in DIR: image trace/graph, text trace/table")
    parser.add_argument("--run-name", metavar="NAME", help="the run's folder in --logdir (default trace-NET-IMPL)")


def _writable_file(path: Path, flag: str) -> None:
    """UsageError unless ``path`` can be written: not a folder, and its folder exists or can be made."""
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; pass a file name, e.g. {path / ('trace' + (path.suffix or '.json'))}")
    _writable_folder(path.parent, flag, path)


def _writable_folder(folder: Path, flag: str, target: Path) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {target}: {existing} is a file, not a folder (folders are created if missing)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {target}: cannot write in {existing} (permission denied); pick a folder you can write to")


def _label(impl: str) -> str:
    stem = Path(impl).stem if impl not in ("solutions", "assignments", "torch") else impl
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "impl"


def _run_dir(args: argparse.Namespace) -> Path | None:
    """<logdir>/<run-name>, checked before any work; a default name never reuses a folder."""
    if args.logdir is None:
        if args.run_name is not None:
            raise UsageError("--run-name names a run inside --logdir; add --logdir DIR (e.g. --logdir runs)")
        return None
    logdir = Path(args.logdir)
    _writable_folder(logdir, "--logdir", logdir)
    if args.run_name is not None:
        run = logdir / args.run_name
        if run.is_dir() and any(run.glob("events.out.tfevents.*")):
            raise UsageError(f"--run-name {args.run_name}: {run} already holds a TensorBoard run; pick another name")
        if run.exists() and not run.is_dir():
            raise UsageError(f"--run-name {args.run_name}: {run} is a file, not a folder")
        return run
    base = f"trace-{args.net}-{_label(args.impl)}"
    run, k = logdir / base, 1
    while run.exists():
        k += 1
        run = logdir / f"{base}-{k}"
    return run


def check_args(args: argparse.Namespace) -> Path | None:
    """Every flag checked before anything runs; returns the TensorBoard run folder (or None)."""
    from course_nn.trace import NETS

    if args.net not in NETS:
        raise UsageError(f"--net {args.net!r} is not a network here; choose one of {', '.join(NETS)}")
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more (got {args.seed})")
    if args.out is not None:
        out = Path(args.out)
        if out.suffix.lower() not in FORMATS:
            raise UsageError(f"--out {out}: the picture is written as .png or .svg; name the file e.g. trace.png")
        _writable_file(out, "--out")
    if args.json is not None:
        _writable_file(Path(args.json), "--json")
    _refuse_overwriting_inputs(args)
    return _run_dir(args)


def _refuse_overwriting_inputs(args: argparse.Namespace) -> None:
    """--out and --json never replace the Functions file being traced (files.refuse_overwrite)."""
    from course_nn.files import refuse_overwrite
    from course_nn.impl import impl_file

    outputs = [(flag, value) for flag, value in (("--out", args.out), ("--json", args.json)) if value is not None]
    if outputs:
        source = impl_file(args.impl)
        for flag, value in outputs:
            refuse_overwrite(value, flag, reads=[source])
    if args.out is not None and args.json is not None and Path(args.out).resolve() == Path(args.json).resolve():
        raise UsageError(f"--out and --json are both {args.out}; give two different files")


def _write_tensorboard(run_dir: Path, tr, text: str) -> None:
    from tensorboard.plugins.text.summary_v2 import text_pb
    from torch.utils.tensorboard import SummaryWriter

    from course_nn.trace import draw

    writer = SummaryWriter(log_dir=str(run_dir))
    try:
        writer.add_image("trace/graph", draw.rgb(tr), 0, dataformats="HWC")
        # add_text would file it under "trace/table/text_summary"; the text plugin's own summary keeps
        # the tag exactly "trace/table". Indented four spaces, it renders as preformatted text.
        table = "\n".join("    " + line for line in text.splitlines())
        writer.file_writer.add_summary(text_pb("trace/table", table), 0)
    finally:
        writer.close()


def run(args: argparse.Namespace) -> int:
    from course_nn.files import atomic_write, write_json
    from course_nn.impl import load_functions
    from course_nn.trace import draw
    from course_nn.trace.export import to_json
    from course_nn.trace.nets import build_net
    from course_nn.trace.record import trace

    run_dir = check_args(args)
    fns = load_functions(args.impl)
    net = build_net(args.net, args.seed)
    tr = trace(fns, net, args.impl, args.seed)

    text = f"{draw.table(tr)}\n\n{draw.verdict(tr)}"
    print(f"tracing {args.impl} against torch's built-ins: --net {net.name} ({net.description}), "
          f"seed {args.seed}, float64; nodes from the loss towards the input")
    print(text)
    if args.out is not None:
        data = draw.render(tr, Path(args.out).suffix.lower().lstrip("."))
        atomic_write(args.out, lambda f: f.write(data))
        print(f"picture: {args.out}")
    if args.json is not None:
        write_json(args.json, to_json(tr))
        print(f"every value: {args.json}")
    if run_dir is not None:
        _write_tensorboard(run_dir, tr, text)
        print(f"TensorBoard run: {run_dir} (tensorboard --logdir {args.logdir})")
    return 0 if tr.first_wrong is None else 1
