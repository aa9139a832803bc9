# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: the name of a decorated class is bound to whatever the decorator returns, and the gate kept
# reading it as the class, with the class's own attribute names readable on it.
import functools as _ft

import numpy as _np


@_ft.partial(lambda _c: _np.zeros(1))  # hole
class _Arr:
    ctypes = 0


@_ft.partial(lambda _c: _Arr.ctypes)  # hole
class _Ct:
    _ctypes = 0


@_ft.partial(lambda _c: _Ct._ctypes)  # hole
class _Mod:
    _sys = 0


@_ft.partial(lambda _c: _Mod._sys)  # hole
class _Sys:
    modules = 0
    _getframe = 0


@_ft.partial(lambda _c: _Sys.modules["builtins"])  # hole
class _Bi:
    exec = 0


_Bi.exec(_FORGE, {"_frame": _Sys._getframe()})
