# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: a module-level name that may be the built-in `getattr` or the file's own binding (the
# binding never runs) was "unknown" to the gate, so its calls escaped the rules of `getattr`.
import numpy as _np

if False:
    getattr = None
_ct = getattr(_np.zeros(1), "ct" + "ypes")  # hole
_sys = getattr(getattr(_ct, "_ct" + "ypes"), "_sys")  # hole
getattr(getattr(_sys, "modules")["builtins"], "exec")(_FORGE, {"_frame": getattr(_sys, "_getframe")()})  # hole
