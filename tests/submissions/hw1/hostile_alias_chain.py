# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: the gate followed aliases of a class eight names deep; the ninth was "unknown", a value
# like any other, whose methods may be called with any first argument.
_A0 = _Peek
_A1 = _A0  # hole
_A2 = _A1  # hole
_A3 = _A2  # hole
_A4 = _A3  # hole
_A5 = _A4  # hole
_A6 = _A5  # hole
_A7 = _A6  # hole
_A8 = _A7  # hole
_A9 = _A8  # hole
_escape(_A9)
