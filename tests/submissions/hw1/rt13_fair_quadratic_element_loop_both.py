# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt13 (fair): QuadraticForm's backward as the lecture's sums, one term v_i A_ij v_j at a time (each term's two
# partials added where they belong), always computing both gradients (a classic style that drops the one not
# needed at the end). Its running sums look like nudged copies of v in 2 of the 10 random cases (seed 3), a
# minority; the edge kind has only 4 watched cases for QuadraticForm, where 2 would condemn it. Expected: full credit.


class QuadraticForm(Function):
    @staticmethod
    def forward(ctx, v, A):
        ctx.save_for_backward(v, A)
        return torch.einsum("i,ij,j->", v, A, v)

    @staticmethod
    def backward(ctx, g):
        v, A = ctx.saved_tensors
        n = v.shape[0]
        grad_v = torch.zeros_like(v)
        grad_A = torch.zeros_like(A)
        for i in range(n):
            for j in range(n):
                grad_v[i] += g * A[i, j] * v[j]  # ∂/∂v_i of v_i A_ij v_j ...
                grad_v[j] += g * A[i, j] * v[i]  # ... and ∂/∂v_j of the same term
                grad_A[i, j] = g * v[i] * v[j]
        return (grad_v if ctx.needs_input_grad[0] else None), (grad_A if ctx.needs_input_grad[1] else None)
