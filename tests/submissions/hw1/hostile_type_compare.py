# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: `type(x) == obj` hands the class to obj.__eq__ (reflected comparison); `in` to __contains__.
class _Grab:
    def __init__(self):
        self.got = []

    def __eq__(self, other):
        self.got.append(other)
        return False


_grab = _Grab()
_seen = type(_Peek()) == _grab  # hole
_escape(_grab.got[0])
