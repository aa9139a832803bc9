# ruff: noqa: F821  (a part: the test appends it to tests/submissions/hw1/correct_base.py)
# rt11 (honest, refused: a documented limit of the gate's language): the elementwise Functions made by one
# factory -- a closure over the function and its derivative returns a Function class, and each task's name is
# bound once to what it returns. Correct code in a common Python idiom, but the class returned is a value, and a
# Function class held as a value carries torch.autograd.Function's own methods (`.set_materialize_grads`), which
# read off the class run on any object first: the hole of rt11_escape_listed_class_as_value.py. The gate refuses
# `return _Elementwise` with one line that says to define each Function as a class at module level.


def _elementwise(f, df):
    class _Elementwise(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return f(x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * df(x)

    return _Elementwise  # hole


def _sigmoid(z):
    return torch.where(z >= 0, 1 / (1 + torch.exp(-z.abs())), torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())))


Square = _elementwise(lambda x: x * x, lambda x: 2 * x)
Sigmoid = _elementwise(_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z)))
ReLU = _elementwise(lambda z: z.clamp(min=0), lambda z: (z > 0).to(z.dtype))
