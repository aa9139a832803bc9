"""Against the rule (an honest formula, but computed where the grader cannot see it): backward written
in numpy, analytically, as PyTorch's own "Extending with numpy" tutorial does — s(1 - s), not a numerical
derivative. The grader cannot tell numpy's formula from numpy's finite difference, so the handout's rule 2
asks for the gradient in tensor operations: no backward, gradcheck or edge credit, with a line that says so."""
import numpy as np
import torch
from torch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, z):
        s = 1 / (1 + torch.exp(-z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        a = s.detach().cpu().numpy()
        g = grad_output.detach().cpu().numpy()
        return torch.from_numpy(np.asarray(g * a * (1 - a))).to(grad_output.device)
