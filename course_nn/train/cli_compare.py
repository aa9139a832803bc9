"""Find where a student's Functions first disagree with torch's built-ins, layer by layer.

Builds the same network twice from the same seed (so the initial weights are identical): once from
the student's Functions (--impl) and once from torch's built-ins (F.linear, torch.relu, ...). Both
run one batch forward and backward, in float64 by default so rounding does not hide a bug, and
every intermediate is compared:

  forward   each layer's pre-activation z_k = a_{k-1} W_kᵀ + b_k, its activation a_k, and the loss
  backward  following backpropagation from the loss towards the input: dJ/dz_K (the loss's
            backward), then for each layer the bias and weight gradients, dJ/da_{k-1} (Linear's
            input gradient) and dJ/dz_{k-1} (the activation's backward)

The student's backward methods are called directly, one Function at a time, with the ctx autograd
itself made for that call (the grad_fn of the forward through .apply), exactly as the grader does:
every gradient is compared as returned, so an unsummed bias gradient of shape (N, out) is found
instead of being summed away by autograd. Each backward gets a copy of its upstream gradient: one
that writes into it (or into a saved input) in place is a difference of its own, named with the hint
`course-nn check` gives, and cannot spoil the layers below. torch's side is ordinary autograd.

For each mismatch it prints the layer, the parameter, the first differing index, the expected
(torch) and actual (student) values and the relative error, and ends with the first difference
along backpropagation and the Function to look at. Exit status 0 when everything matches, 1 when
something differs. A gradient of the wrong shape (dJ/dW of shape (in, out) instead of W's
(out, in), a bias gradient not summed over the batch) is reported with a hint; when the student's
backward raises, the gradients it did produce are still compared and the error, with the file line,
is reported as the first difference. Without --impl: solutions/ in a course clone, else the
functions.py in the current folder (a student's bundle).

examples:
  course-nn compare --impl functions.py
  course-nn compare --impl functions.py --task sine --activation sigmoid --hidden 8,8
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from course_nn import choices
    from course_nn import cli_types as t

    parser.add_argument("--impl",
                        help="the implementation to check: a path to a functions.py (or solutions, assignments); "
                             "default: solutions/ in a course clone, else the functions.py in this folder")
    parser.add_argument("--task", default="spiral", choices=choices.TASKS, metavar="TASK",
                        help=f"task whose first batch is used: {', '.join(choices.TASKS)} (default spiral)")
    parser.add_argument("--model", default="mlp", choices=choices.MODELS, help="mlp (default) or logreg")
    parser.add_argument("--hidden", default="64,64", type=t.hidden_sizes, metavar="SIZES",
                        help="hidden layer sizes, positive and comma-separated (default 64,64)")
    parser.add_argument("--activation", default="relu", choices=choices.ACTIVATIONS, help="relu (default) or sigmoid")
    parser.add_argument("--batch-size", type=t.positive_int, default=64, metavar="N",
                        help="examples in the batch (default 64)")
    parser.add_argument("--seed", type=t.non_negative_int, default=0, metavar="N",
                        help="seed for the data and the weights (default 0)")
    parser.add_argument("--device", default="auto", choices=choices.DEVICES, help="auto (default), cpu or cuda")
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"),
                        help="precision of the comparison (default float64)")
    parser.add_argument("--rtol", type=t.non_negative_float,
                        help="relative tolerance (default 1e-6 for float64, 1e-4 for float32)")
    parser.add_argument("--atol", type=t.non_negative_float,
                        help="absolute tolerance (default 1e-9 for float64, 1e-6 for float32)")
    parser.add_argument("--data-dir", default="data", help="where torchvision finds MNIST (default data/)")
    parser.add_argument("--download", action="store_true", help="let torchvision download MNIST/FashionMNIST")


def run(args: argparse.Namespace) -> int:
    from course_nn.train.compare import run_compare

    forward, backward, header = run_compare(args)
    print(header)
    width = max(len(c.where) for c in forward + backward)
    for title, checks in (("forward", forward), ("backward (from the loss towards the input)", backward)):
        print(title)
        for c in checks:
            print(f"  {c.where:<{width}}  {'ok ' if c.ok else 'DIFFERS'}  {'' if c.ok else c.detail}".rstrip())
    first_fwd = next((c for c in forward if not c.ok), None)
    first_bwd = next((c for c in backward if not c.ok), None)
    if first_fwd is None and first_bwd is None:
        print("all forward values and gradients match torch's built-ins")
        return 0
    if first_fwd is not None:
        print(f"first forward difference: {first_fwd.where}: {first_fwd.detail}; look at {first_fwd.culprit} "
              "(later values and gradients inherit this difference)", file=sys.stdout)
    if first_bwd is not None:
        print(f"first gradient difference along backpropagation: {first_bwd.where}: {first_bwd.detail}; "
              f"look at {first_bwd.culprit}")
    return 1
