# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: a class with methods, nested in a class body under a name any object may be asked for
# (`apply`), leaves through an outer class the gate cannot type.
class _Outer:
    class apply(_Peek):  # hole
        pass


_escape([_Outer][0].apply)
