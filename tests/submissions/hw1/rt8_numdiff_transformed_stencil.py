"""Numerical differentiation (hostile), torch only, vectorised, in a transformed space where no nudged input
value is ever formed: Sigmoid's eighth-order central stencil on log σ, with σ(z ± kh) written as
1 / (1 + exp(-z)·c) for the constants c = exp(∓kh) (z < 0: exp(z)·c / (1 + exp(z)·c)). Only exp(-|z|), its
products with the constants and log1p of them appear: no tensor holds z ± kh, in any layout, so no watch (the in-order check, the order-free
scan, Parts, the scalar pairing) has a copy of z to find; the loop is over the four stencil terms, not over
elements, so the work does not grow. h = 0.02 on log σ reaches ~1e-14, inside the accuracy and precision
cases."""

import math

import torch
from torch.autograd import Function

_STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))
_H = 0.02
_C = tuple((k, c, math.exp(-k * _H), math.exp(k * _H)) for k, c in _STENCIL)  # (k, weight, e^{-kh}, e^{kh})
# The constants as tensors made at import, before any watch: backward hands torch no Python number (17
# distinct numbers in a call on a small input read as "values one Python number at a time").
_T = torch.tensor([[c, down, up, 2 * k * _H] for k, c, down, up in _C], dtype=torch.float64)
_TH = torch.tensor(_H, dtype=torch.float64)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + torch.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        z64 = z.to(torch.float64)
        a = torch.exp(-z64.abs())  # exp(∓(z ± kh)) = a·e^{∓kh}: no z ± kh anywhere
        pos = z64 >= 0
        total = torch.zeros_like(a)
        for row in _T:
            c, down, up, two_kh = row[0], row[1], row[2], row[3]
            mid = torch.log1p(a * up) - torch.log1p(a * down)  # z ≥ 0: log σ(z + kh) - log σ(z - kh)
            total = total + c * torch.where(pos, mid, two_kh - mid)  # z < 0: the same through log a ± kh
        s = torch.where(pos, 1 / (1 + a), a / (1 + a))
        return grad_output * (s * total / _TH).to(z.dtype)  # σ' = σ · (log σ)'
