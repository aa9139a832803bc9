# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: a class named inside isinstance/except/raise/an annotation is only ever compared, but a
# subscript there calls the container's own __getitem__ with it (a defaultdict keeps the key).
import collections as _collections

_kept = _collections.defaultdict(int)
try:
    isinstance(1, _kept[_Peek])  # hole
except TypeError:
    pass
_escape(list(_kept)[0])
