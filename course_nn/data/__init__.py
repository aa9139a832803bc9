"""Data sets for the reference trainer: small synthetic tasks and torchvision's MNIST/FashionMNIST.

Every task loads into a :class:`TaskData` of in-memory tensors, so a training step is a slice,
not a DataLoader round trip:

    2-D classification (like the TensorFlow Playground): spiral, xor, circles
        x (N, 2) float32 in about [-1, 1]², y (N,) int64 in {0, 1}
    1-D regression ("a network to approximate a 1-D function"): sine, step, bump
        x (N, 1) float32 in [-1, 1], y (N, 1) float32
    images: mnist, fashion-mnist
        x (N, 784) float32 (28×28 pixels, standardised), y (N,) int64 in {0..9}
"""

from __future__ import annotations

from course_nn.data.tasks import (
    CLASSIFICATION_2D,
    IMAGE_TASKS,
    REGRESSION_1D,
    TASKS,
    TaskData,
    load_task,
)

__all__ = ["CLASSIFICATION_2D", "IMAGE_TASKS", "REGRESSION_1D", "TASKS", "TaskData", "load_task"]
