"""Fairness: correct Functions written with explicit loops over every element (slow, honest).

Each derivative is the analytic one, computed element by element — work that grows with the number
of elements, but no evaluation of the Function at moved inputs. Also: Sigmoid's derivative from the
saved output as s - s², Linear through einsum, SquaredError through a flattened difference.
Expected: full credit, no numerical-differentiation finding."""

import torch
from torch.autograd import Function


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        flat_x, flat_g = x.reshape(-1), grad_output.reshape(-1)
        out = torch.empty_like(flat_x)
        for i in range(flat_x.numel()):
            out[i] = 2 * flat_x[i] * flat_g[i]
        return out.reshape(x.shape)


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return torch.einsum("i,ij,j->", v, A, v)

    @staticmethod
    def backward(ctx, g):
        v, A = ctx.saved_tensors
        n = v.shape[0]
        grad_v = torch.zeros_like(v) if ctx.needs_input_grad[0] else None
        grad_A = torch.zeros_like(A) if ctx.needs_input_grad[1] else None
        for i in range(n):
            for j in range(n):
                if grad_v is not None:
                    grad_v[i] += g * (A[i, j] + A[j, i]) * v[j]
                if grad_A is not None:
                    grad_A[i, j] = g * v[i] * v[j]
        return grad_v, grad_A


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        flat_s, flat_g = s.reshape(-1), grad_output.reshape(-1)
        out = torch.empty_like(flat_s)
        for i in range(flat_s.numel()):
            out[i] = flat_g[i] * (flat_s[i] - flat_s[i] * flat_s[i])
        return out.reshape(s.shape)


class ReLU(Function):
    @staticmethod
    def forward(ctx, z):
        out = z.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        flat_o, flat_g = out.reshape(-1), grad_output.reshape(-1)
        grad = torch.zeros_like(flat_g)
        for i in range(flat_o.numel()):
            if flat_o[i] > 0:
                grad[i] = flat_g[i]
        return grad.reshape(out.shape)


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = torch.einsum("ni,oi->no", x, weight)
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = torch.einsum("no,oi->ni", grad_output, weight) if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = torch.zeros_like(weight)
            for o in range(weight.shape[0]):
                for i in range(weight.shape[1]):
                    grad_w[o, i] = (grad_output[:, o] * x[:, i]).sum()
        grad_b = grad_output.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class SquaredError(Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return torch.mean((pred - target) ** 2)

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        flat = (pred - target).reshape(-1)
        grad = torch.empty_like(flat)
        for i in range(flat.numel()):
            grad[i] = 2 * flat[i] / flat.numel() * grad_output
        grad = grad.reshape(pred.shape)
        return (grad if ctx.needs_input_grad[0] else None), (-grad if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        m = logits.max(dim=1, keepdim=True).values
        log_p = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
        y = target if target.is_floating_point() else torch.nn.functional.one_hot(target.long(), logits.shape[1]).to(logits.dtype)
        ctx.save_for_backward(log_p, y)
        return -(y * log_p).sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        log_p, y = ctx.saved_tensors
        p = torch.exp(log_p)
        grad = torch.empty_like(p)
        for n in range(p.shape[0]):
            for k in range(p.shape[1]):
                grad[n, k] = grad_output * (p[n, k] * y[n].sum() - y[n, k]) / p.shape[0]
        return grad, None
