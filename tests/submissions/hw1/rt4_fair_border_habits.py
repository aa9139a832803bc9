"""Fairness: honest code at torch's border in several habits at once, every gradient computed with tensor
operations: ReLU's mask built in numpy as 0.0/1.0 and saved as a float tensor; Linear's shape read with
``torch.as_tensor`` of the shape's integers; CrossEntropy's probability targets converted through numpy
(``np.asarray(..., dtype=float64)``), a per-row Python-number scale (each row's target total, ``.item()``)
and the scalar upstream gradient read with ``.item()`` in the row loop. Expected: full credit."""
import numpy as np
import torch
from torch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        a = np.asarray(z.detach().cpu().numpy())
        mask = torch.from_numpy(np.asarray(np.where(a > 0, 1.0, 0.0), dtype=a.dtype)).to(z.device)
        ctx.save_for_backward(mask)
        return z * mask

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, torch.as_tensor(list(x.shape) + list(weight.shape)))
        ctx.has_bias = bias is not None
        y = x @ weight.t()
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, sizes = ctx.saved_tensors
        n, d_in, d_out, _ = sizes.tolist()
        assert grad_output.shape == (n, d_out) and weight.shape[1] == d_in
        grad_x = grad_output @ weight if ctx.needs_input_grad[0] else None
        grad_w = grad_output.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_output.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        if target.is_floating_point():
            y = torch.as_tensor(np.asarray(target.detach().cpu().numpy(), dtype=np.float64)).to(logits)
        else:
            y = torch.zeros_like(logits).scatter(1, target.unsqueeze(1), 1.0)
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        p = log_p.exp()
        grad = torch.empty_like(p)
        for i in range(p.shape[0]):  # dL/dz_i = (p_i * sum(y_i) - y_i) / N, one row at a time
            total = y[i].sum().item()
            grad[i] = (p[i] * total - y[i]) * (grad_output.item() / p.shape[0])
        return grad, None
