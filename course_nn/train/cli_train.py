"""Train a small network built from an implementation of the hw1 Functions and watch it in TensorBoard.

The network's arithmetic goes through the chosen implementation (--impl): every Linear, ReLU,
Sigmoid, CrossEntropy and SquaredError is that file's Function, called with .apply, so a student
sees their own backward train a model. Plain SGD (gradients zeroed every step).

Tasks: spiral, xor, circles (2-D classification, like the TensorFlow Playground);
sine, step, bump (1-D regression); mnist, fashion-mnist (torchvision; --data-dir, --download).
Defaults per task (epochs, batch size, lr): 2-D 150/16/0.1, 1-D 200/16/0.05, images 5/64/0.1.

--features quadratic feeds the network (x1, x2, x1², x2², x1·x2) instead of (x1, x2): the lecture's
hand-made feature map, with which even --model logreg (a straight line in feature space) separates
the circles; the decision_boundary image is drawn in the input plane, beside an MLP's learned one.

--hw2 mlp.py trains a student's own hw2 MLP with their train_epoch and the sgd_step it calls; the
MLP is built from --impl's Functions (default: torch's built-ins, the handout's TorchFunctions).

--nproc N trains with N processes on this machine (torch.distributed, DistributedDataParallel; gloo
on the CPU, nccl with one GPU per process). --batch-size stays the GLOBAL batch: each process takes
an equal share of every batch (so it must be a multiple of N) and the gradients are averaged, so a
2-process run follows the same loss curve as one process. Only the first process writes the run
folder. Several machines: start it with torchrun instead (docs/trainer.md), e.g.
  torchrun --nproc-per-node 2 -m course_nn train --task circles

Torch gets one intra-op thread per 3e7 multiply-adds of a step (weights x examples per process),
at least 1 and at most the idle cores (cores minus the load average) shared among the processes:
the course's small networks run fastest with one thread, and on a busy machine far faster (the
spiral MLP: 1.4 instead of 32 ms per step). --threads N overrides it.

Each run lives in <logdir>/<run-name>/ with its TensorBoard events and checkpoint.pt. --epochs is
the total: --resume runs/NAME/checkpoint.pt --epochs 300 continues a 200-epoch run to 300.
Ctrl-C keeps the last finished epoch's checkpoint and prints the command that resumes it.
A Function that fails (e.g. a weight gradient of the wrong shape) is reported in one line naming
the Function, the input and the file line; 'course-nn compare' then shows which value differs.

examples:
  course-nn train                                   # spiral, solutions, MLP 64,64 ReLU
  course-nn train --task sine --hidden 16           # watch the 'fit' image in TensorBoard
  course-nn train --impl path/to/functions.py       # train with a student's Functions
  course-nn train --task circles --model logreg --features quadratic   # a hand-made feature map
  course-nn train --hw2 mlp.py --task xor           # a student's hw2 MLP, sgd_step and train_epoch
  course-nn train --nproc 2 --device cpu            # two processes, same loss curve as one
  course-nn train --task mnist --model logreg --download --data-dir data
  tensorboard --logdir runs                         # then open http://localhost:6006
"""

from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from course_nn import choices
    from course_nn import cli_types as t

    # Training settings default to None so that a resumed run can tell an explicit flag from a
    # default; the real defaults are filled in by course_nn.train.config.
    parser.add_argument("--task", choices=choices.TASKS, metavar="TASK",
                        help=f"{', '.join(choices.TASKS)} (default: spiral)")
    parser.add_argument("--impl", help="solutions (default), assignments, torch, or a path to a functions.py "
                                       "(with --hw2 the Functions the MLP is built from; default there: torch)")
    parser.add_argument("--model", choices=choices.MODELS, help="mlp (default) or logreg (one Linear layer)")
    parser.add_argument("--hidden", type=t.hidden_sizes, metavar="SIZES",
                        help="hidden layer sizes of the mlp, positive and comma-separated (default 64,64)")
    parser.add_argument("--activation", choices=choices.ACTIVATIONS, help="relu (default) or sigmoid")
    parser.add_argument("--features", choices=choices.FEATURES,
                        help="raw (default: the inputs x) or quadratic (x, every x_i², every x_i·x_j; "
                             "1-D and 2-D tasks only)")
    parser.add_argument("--hw2", metavar="MLP_PY",
                        help="train the MLP of this hw2 mlp.py with its own train_epoch and sgd_step")
    parser.add_argument("--device", choices=choices.DEVICES, default="auto",
                        help="auto (default: cuda if available), cpu or cuda")
    parser.add_argument("--epochs", type=t.positive_int, metavar="N",
                        help="total number of epochs (a resumed run continues up to it)")
    parser.add_argument("--batch-size", type=t.positive_int, metavar="N",
                        help="examples per SGD step, over all processes (the global batch; with --nproc N "
                             "each process takes an equal share, so a multiple of N)")
    parser.add_argument("--lr", type=t.positive_float, help="learning rate η of θ ← θ − η ∇J")
    parser.add_argument("--momentum", type=float, help="SGD momentum in [0, 1) (default 0: plain SGD as in the lecture)")
    parser.add_argument("--seed", type=t.non_negative_int, metavar="N",
                        help="seed for the data, the initial weights and the shuffling (default 0)")
    parser.add_argument("--train-size", dest="n_train", type=t.positive_int, metavar="N",
                        help="training examples (2-D tasks: default 2000, 1-D: 1000; MNIST: a cap, default all)")
    parser.add_argument("--val-size", dest="n_val", type=t.positive_int, metavar="N",
                        help="validation examples (synthetic tasks: default 1000; MNIST: cap on the test split)")
    parser.add_argument("--nproc", type=t.positive_int, metavar="N", default=1,
                        help="processes on this machine (default 1; data-parallel, same loss curve as 1)")
    parser.add_argument("--threads", type=t.positive_int, metavar="N",
                        help="torch intra-op threads per process (default: chosen from the model's size and "
                             "the idle cores; 1 for the small networks)")
    parser.add_argument("--data-dir", default="data", help="where torchvision finds MNIST/raw (default data/)")
    parser.add_argument("--download", action="store_true", help="let torchvision download MNIST/FashionMNIST")
    parser.add_argument("--logdir", help="folder that holds the runs (default runs/; created if missing)")
    parser.add_argument("--run-name", help="name of this run's folder (default TASK-MODEL[-FEATURES]-IMPL)")
    parser.add_argument("--plot-every", type=t.positive_int, metavar="N",
                        help="epochs between images and histograms (default: about 20 per run)")
    parser.add_argument("--summary", metavar="PATH", help="write the final metrics as JSON to PATH")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue the run saved in CHECKPOINT")
    parser.add_argument("--quiet", action="store_true", help="no progress bars, just one line at the end")


def _result_line(summary: dict) -> str:
    where = summary["device"] + (f", {summary['processes']} processes" if summary.get("processes", 1) > 1 else "")
    line = (f"{summary['task']}: {summary['epochs']} epochs in {summary['seconds']:.1f} s on {where} "
            f"({summary['threads']} thread(s) each), "
            f"train loss {summary['train_loss']:.4f}, val loss {summary['val_loss']:.4f}")
    if "val_accuracy" in summary:
        line += f", val accuracy {100 * summary['val_accuracy']:.2f}%"
    return f"{line}; run saved in {summary['run_dir']}"


def run(args: argparse.Namespace) -> int:
    from course_nn.errors import UsageError
    from course_nn.train import distributed
    from course_nn.train.config import TrainConfig, prepare

    names = set(TrainConfig.__dataclass_fields__)
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
    if distributed.launched():  # one rank of a torchrun job: the other ranks print nothing
        if args.nproc > 1:
            raise UsageError("--nproc with torchrun: torchrun already started the processes (--nproc-per-node); "
                             "drop --nproc")
        from course_nn.train.trainer import train

        try:
            summary = train(cfg)
        except distributed.PeerStopped as err:  # the rank that failed reports it
            return err.exit_code
    elif args.nproc > 1:
        from course_nn.train.launch import launch

        prepare(cfg, args.nproc)  # bad flags and paths: one line here, before any process starts
        if cfg.device == "cuda":
            import torch

            if torch.cuda.device_count() < args.nproc:
                raise UsageError(f"--device cuda with --nproc {args.nproc} but {torch.cuda.device_count()} GPU(s) "
                                 "here; one GPU per process: a smaller --nproc, or --device cpu")
        summary = launch(cfg, args.nproc)
    else:
        from course_nn.train.trainer import train

        summary = train(cfg)
    if not summary:
        return 0
    print(_result_line(summary))
    if not args.quiet:
        print(f"watch it: tensorboard --logdir {os.path.dirname(summary['run_dir']) or '.'}   (then open http://localhost:6006)")
    return 0
