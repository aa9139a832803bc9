# ruff: noqa: F821, B009  (a part: the test appends it to the untouched stub, which imports Function)
"""Gate (hostile): `str.format` reads attributes by the names inside its template, so the gate admits
`.format` only on a written-out template whose fields read nothing. Taken with getattr and a literal name,
`getattr(TEMPLATE, "format")` is checked as a plain `x.format` on an unknown value, and the template's
fields are never read: `{0.gi_frame.f_back...}` walks from a running generator to the grader's frames.
Square.forward raises the text on its first visible case, so the student reads the names of the child's
frames and the locals of the one that runs the cases (hidden inputs included) in the feedback."""

_READ = ("{0.gi_frame.f_back.f_code.co_name} < {0.gi_frame.f_back.f_back.f_back.f_back.f_back.f_back.f_code.co_name}"
         " < {0.gi_frame.f_back.f_back.f_back.f_back.f_back.f_back.f_back.f_code.co_name}: "
         "{0.gi_frame.f_back.f_back.f_back.f_back.f_back.f_back.f_back.f_locals}")


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        def walk():
            yield getattr(_READ, "format")(me)  # hole
        me = walk()
        raise ValueError(next(me))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
