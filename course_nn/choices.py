"""The closed sets of names the commands accept, and the hidden-layer-size rule, without torch.

Both the code that uses a name (data sets, models, devices) and the command line's ``choices=``
read them from here, so ``--help`` lists the valid values and a typo fails in a few milliseconds,
before ``import torch`` (which takes seconds).
"""

from __future__ import annotations

CLASSIFICATION_2D: tuple[str, ...] = ("spiral", "xor", "circles")
REGRESSION_1D: tuple[str, ...] = ("sine", "step", "bump")
IMAGE_TASKS: tuple[str, ...] = ("mnist", "fashion-mnist")
TASKS: tuple[str, ...] = CLASSIFICATION_2D + REGRESSION_1D + IMAGE_TASKS

MODELS: tuple[str, ...] = ("mlp", "logreg")
ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid")
#: Hand-crafted feature maps applied to the inputs before the first layer (course_nn/train/features.py).
FEATURES: tuple[str, ...] = ("raw", "quadratic")
#: "auto" is cuda when torch sees a GPU, else cpu.
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def parse_hidden(text: str) -> list[int]:
    """'64,64' -> [64, 64]: the hidden layer sizes, each a positive integer.

    Raises ValueError with the reason for anything else ('', '0', '64,,64', 'abc', '-3'); a network
    without hidden layers is ``--model logreg``.
    """
    parts = [part.strip() for part in text.split(",")]
    if any(part == "" for part in parts):
        raise ValueError("a size is missing (empty between commas)" if text.strip() else "no sizes given")
    sizes = []
    for part in parts:
        try:
            size = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number") from None
        if size < 1:
            raise ValueError(f"{size} is not a positive size")
        sizes.append(size)
    return sizes
