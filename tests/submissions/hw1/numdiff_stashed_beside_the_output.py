"""Numerical differentiation (hostile): forward builds one numpy buffer holding its output and the
numerical derivative, returns the first half as a view and saves the whole buffer: the output's
exemption must not clear the derivative that shares its storage."""
import numpy as np
import torch
from torch.autograd import Function

H = 1e-6


def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        a = z.detach().cpu().numpy()
        both = np.concatenate([_sig(a).reshape(-1), ((_sig(a + H) - _sig(a - H)) / (2 * H)).reshape(-1)])
        buf = torch.from_numpy(both.astype(a.dtype))
        ctx.save_for_backward(buf)
        return buf[: z.numel()].reshape(z.shape)

    @staticmethod
    def backward(ctx, grad_output):
        (buf,) = ctx.saved_tensors
        return grad_output * buf[grad_output.numel():].reshape(grad_output.shape)
