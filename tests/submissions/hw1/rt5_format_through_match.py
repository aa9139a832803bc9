# ruff: noqa: F821  (a part: the test appends it to the untouched stub, which imports Function)
"""Gate (hostile): the `.format` rule again, through a class pattern. `case str(format=fmt)` reads the
attribute `format` of the subject, a template held in a variable; rules.py checks the keyword as the
attribute `subject.format` on an unknown value, so the template's fields are never read. Square.forward
raises what `{0.gi_frame.f_back...}` finds: the names of the child's frames."""

_TEMPLATE = "{0.gi_frame.f_back.f_code.co_name} < {0.gi_frame.f_back.f_back.f_back.f_back.f_back.f_back.f_code.co_name}"


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        def walk():
            match _TEMPLATE:
                case str(format=fmt):  # hole
                    yield fmt(me)
        me = walk()
        raise ValueError(next(me))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
