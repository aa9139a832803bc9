"""relu_interpolant uses each interval's slope as its unit's output weight instead of the change of slope."""

import torch


def relu_interpolant(knots_x, knots_y):
    x, y = knots_x.double(), knots_y.double()
    slopes = (y[1:] - y[:-1]) / (x[1:] - x[:-1])
    return torch.ones_like(slopes), -x[:-1], slopes.clone(), y[0].clone()  # mistake: slopes add up
