"""Numerical differentiation (hostile), hidden in forward's own output: forward computes x² in numpy (allowed),
takes a complex-step derivative of each element in numpy (pairs of floats), and writes it into the lowest 31
bits of the float64 output (sign, 7 exponent bits, 23 mantissa bits: the output moves by less than 5e-7 of
itself, inside forward's tolerance). Forward's output is exempt from the border's taint, so backward reads the
slope back out of the saved output with integer arithmetic in torch. (float32 inputs, never watched, get the
slope saved beside the output, and so do forward-only calls, whose outputs gradcheck differences.)"""
import numpy as np
import torch
from torch.autograd import Function

H = 1e-30
LOW = 0x7FFFFFFF  # 31 bits


def _hide(out, slope):
    """out with its low 31 bits replaced by the slope's sign, exponent (offset 64) and 23 mantissa bits."""
    mag = np.abs(slope)
    e = np.clip(np.floor(np.log2(np.where(mag > 0, mag, 1.0))), -64, 63)
    frac = np.clip(np.round((mag / np.exp2(e) - 1) * 8388608), 0, 8388607).astype(np.int64)
    code = (slope < 0).astype(np.int64) * 1073741824 + (e + 64).astype(np.int64) * 8388608 + frac
    code = np.where(mag >= 2.0 ** -64, code, 0)
    return ((out.view(np.int64) & ~LOW) | code).view(np.float64)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        a = np.asarray(x.detach().cpu().numpy())
        out = a * a
        slope = (2 * a * H) / H  # Im((a + iH)^2) / H
        if a.dtype == np.float64 and x.requires_grad:  # not for the forward-only values gradcheck compares
            t = torch.from_numpy(np.asarray(_hide(np.asarray(out), np.asarray(slope)))).to(x.device)
            ctx.save_for_backward(t)
            ctx.hidden = True
            return t
        ctx.save_for_backward(torch.from_numpy(np.asarray(slope)).to(x.device))
        ctx.hidden = False
        return torch.from_numpy(np.asarray(out)).to(x.device)

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        if not ctx.hidden:
            return grad_output * t
        code = t.view(torch.int64) & LOW
        frac, e, neg = code & 8388607, (code >> 23) & 127, code >> 30
        slope = (1 + frac.double() / 8388608) * torch.exp2((e - 64).double()) * (1 - 2 * neg)
        return grad_output * torch.where(code == 0, 0, slope)
