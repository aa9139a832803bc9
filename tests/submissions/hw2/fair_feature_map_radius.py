"""Fairness (hw2): feature_map written differently — one feature only (the distance from the
centre, not its square), computed row by row with math, returned in float64 whatever X's dtype.
Expected: full credit (it separates the circles; the contract asks for (N, k) floats, any dtype)."""

import math

import torch


def feature_map(X):
    rows = [[math.hypot(float(x1), float(x2))] for x1, x2 in X.tolist()]
    return torch.tensor(rows, dtype=torch.float64)
