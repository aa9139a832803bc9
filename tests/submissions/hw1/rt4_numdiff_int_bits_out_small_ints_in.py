"""Numerical differentiation (hostile): backward reads each element's exact float64 bits as an integer tensor
that is not a view (``x.double().view(torch.int64) + 0``: ``.tolist()`` of integers counts as labels), takes a
complex-step derivative on Python floats (Im f(v + ih) / h, in pairs of floats), and hands each slope back as
integers below 2**20 (sign, three 20-bit pieces of the mantissa, the exponent: "small enough to be labels"),
rebuilt in torch with integer arithmetic and ``exp2``. No floating value crosses torch's border."""
import math

import torch
from torch.autograd import Function


def _decode(b):
    """The float64 whose bits are the int64 ``b``."""
    b = b + (1 << 64) if b < 0 else b
    sign, ex, m = b >> 63, (b >> 52) & 0x7FF, b & ((1 << 52) - 1)
    v = float(m) * 2.0 ** -1074 if ex == 0 else float(m + (1 << 52)) * 2.0 ** (ex - 1075)
    return -v if sign else v


def _pieces(s):
    """[sign, top 13 bits, middle 20, low 20, exponent] of a float: every entry below 2**20."""
    if s == 0 or not math.isfinite(s):
        return [0, 0, 0, 0, 0]
    num, den = abs(s).as_integer_ratio()
    e = 1 - den.bit_length()
    while num >= 1 << 53:
        num, e = num >> 1, e + 1
    return [int(s < 0), num >> 40, (num >> 20) & 0xFFFFF, num & 0xFFFFF, e]


def _slopes(x, step):
    bits = (x.detach().double().reshape(-1).view(torch.int64) + 0).tolist()
    rows = [_pieces(step(_decode(b))) for b in bits] or [[0, 0, 0, 0, 0]]
    p = torch.tensor(rows, dtype=torch.int64)
    mant = (p[:, 1] * 1099511627776 + p[:, 2] * 1048576 + p[:, 3]).double()
    g = mant * torch.exp2(p[:, 4].double()) * (1 - 2 * p[:, 0])
    return g[: x.numel()].reshape(x.shape).to(x.dtype)


H = 1e-30


def _square_step(v):
    return 2 * v * H / H  # Im((v + iH)^2) / H


def _sigmoid_step(v):
    e = math.exp(-abs(v))  # the sigmoid's slope is even in v
    a, b = 1 + e * math.cos(H), -e * math.sin(H)  # 1 + exp(-(v + iH))
    return (-b / (a * a + b * b)) / H  # Im(1 / (a + ib)) / H


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _slopes(x, _square_step)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * _slopes(z, _sigmoid_step)
