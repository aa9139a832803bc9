# ruff: noqa: F821, F401, E721  (a part: the test puts the stub, _FORGE and hostile_peek.py before it)
# Red team: torch.nn.Module.get_buffer taken from the class runs on any object: it reads the attribute
# of the given name when `_buffers` holds that name -- here `__class__` of an instance of _Peek.
_escape(_torch.nn.Module.get_buffer(_Peek(), "_" + "_class__"))  # hole
