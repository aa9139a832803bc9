"""The frames parent and child exchange: a 4-byte big-endian length, then the frame.

A frame is JSON for the structure plus one raw byte blob holding every tensor, back to back:
``[4-byte JSON length][JSON][blob]``. Tensors appear in the JSON as ``{"__t": [dtype, shape,
offset, nbytes]}``; tuples and dicts with non-string keys are tagged so they come back as they
went. Nothing is unpickled: the reader builds plain ``torch.Tensor``s with ``torch.frombuffer``
from dtypes on a fixed list, checks every shape against its byte count, and refuses a frame
announcing more than ``MAX_FRAME`` bytes before reading it. (It is also far quicker than
``torch.load`` of many small tensors, which matters when a class is graded.)

Standard library and torch only: this file is copied into the sandbox beside the runner, and the
parent imports the same definitions, so both sides agree on one format.
"""

from __future__ import annotations

import json
import math
import os
import struct

MAX_FRAME = 64 * 1024 * 1024  # results are small tensors; far more is an attack or a bug
HEADER = struct.Struct(">I")
DTYPES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")


class FrameError(ValueError):
    """A frame that is too large or cannot be decoded."""


class FrameTooLarge(FrameError):
    """A value whose frame would exceed MAX_FRAME."""


_LEAVES = (type(None), bool, int, float, str)  # exactly these types go into the JSON as they are
_NAMES: dict = {}  # torch dtype -> its name in DTYPES (None: cannot be framed), filled on first use


def _pack(value, blob: bytearray):
    import torch

    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu").contiguous()
        dtype = _NAMES.get(t.dtype, "")
        if dtype == "":
            name = str(t.dtype).removeprefix("torch.")
            dtype = _NAMES[t.dtype] = name if name in DTYPES else None
        if dtype is None:
            raise FrameError(f"tensor dtype {str(t.dtype).removeprefix('torch.')} cannot be framed")
        if not t.numel():
            raw = b""
        elif dtype == "bfloat16":  # numpy has no bfloat16: its bytes, as uint8
            raw = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()  # contiguous, so in C order: the same bytes
        entry = {"__t": [dtype, list(t.shape), len(blob), len(raw)]}
        blob += raw
        return entry
    if type(value) in _LEAVES or isinstance(value, (bool, int, float, str)):
        return value
    # Plain values inside containers are kept without a call each (most of a result is numbers and text).
    if isinstance(value, tuple):
        return {"__tuple": [v if type(v) in _LEAVES else _pack(v, blob) for v in value]}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _pack(v, blob) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: v if type(v) in _LEAVES else _pack(v, blob) for k, v in value.items()}
        return {"__dict": [[_pack(k, blob), _pack(v, blob)] for k, v in value.items()]}
    raise FrameError(f"a {type(value).__name__} cannot be framed")


def encode(obj: object) -> bytes:
    blob = bytearray()
    text = json.dumps(_pack(obj, blob), allow_nan=True).encode()
    size = HEADER.size + len(text) + len(blob)
    if size > MAX_FRAME:
        raise FrameTooLarge(f"frame of {size} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(size) + HEADER.pack(len(text)) + text + bytes(blob)


_ITEMSIZE: dict[str, int] = {}  # dtype name -> bytes per element, filled on first use


def _itemsize(dtype: str) -> int:
    if not _ITEMSIZE:
        import torch

        _ITEMSIZE.update({d: torch.empty((), dtype=getattr(torch, d)).element_size() for d in DTYPES})
    return _ITEMSIZE[dtype]


class _Tiles:
    """Turns the JSON's tagged objects back into tensors, tuples and dicts, as ``json.loads`` closes each
    object (inner ones first, in the order they were written, which is the order the tensors were packed).

    ``cursor`` is where the next tensor's bytes must start: tensors tile the blob in order, each byte used
    once, so a small frame cannot make the reader allocate more than it sent."""

    def __init__(self, blob: memoryview):
        self.blob = blob
        self.cursor = 0

    def __call__(self, value: dict):
        if "__t" in value:
            return self.tensor(value["__t"])
        if "__tuple" in value:
            items = value["__tuple"]
            if type(items) is not list:
                raise FrameError("bad tuple")
            return tuple(items)
        if "__dict" in value:
            pairs = value["__dict"]
            if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
                raise FrameError("bad dict")
            return {k: v for k, v in pairs}
        return value

    def tensor(self, header):
        import torch

        if type(header) is not list or len(header) != 4:
            raise FrameError("bad tensor header")
        dtype, shape, offset, nbytes = header
        if dtype not in DTYPES or type(shape) is not list or \
                not all(type(n) is int and n >= 0 for n in [*shape, offset, nbytes]):
            raise FrameError("bad tensor header")
        torch_dtype = getattr(torch, dtype)
        if math.prod(shape) * _itemsize(dtype) != nbytes or offset != self.cursor or \
                offset + nbytes > len(self.blob):
            raise FrameError("tensor header does not match its bytes")
        self.cursor += nbytes
        if nbytes == 0:
            return torch.empty(shape, dtype=torch_dtype)
        # The tensor owns a private copy of its bytes (the bytearray), never a view of the frame.
        flat = torch.frombuffer(bytearray(self.blob[offset:offset + nbytes]), dtype=torch_dtype)
        return flat if len(shape) == 1 else flat.reshape(shape)


def decode(data: bytes) -> object:
    """The frame's value. Each object is rebuilt by ``_Tiles`` inside ``json.loads`` (no second walk over
    a result's thousands of numbers and names); nesting is bounded by the JSON reader's own recursion
    limit, and every reader of a result bounds the depth it accepts (``cases.accept``, the schemas)."""
    try:
        (size,) = HEADER.unpack_from(data)
        if HEADER.size + size > len(data):
            raise FrameError("JSON part longer than the frame")
        tiles = _Tiles(memoryview(data)[HEADER.size + size:])
        obj = json.loads(data[HEADER.size:HEADER.size + size], object_hook=tiles)
        if tiles.cursor != len(tiles.blob):
            raise FrameError("tensor bytes do not tile the frame")
        return obj
    except FrameError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything undecodable is the same to the reader
        raise FrameError(f"undecodable frame: {type(exc).__name__}") from None


def split(buffer: bytes) -> tuple[bytes | None, bytes]:
    """One complete frame's payload from the front of ``buffer`` (or None) and what is left."""
    if len(buffer) < HEADER.size:
        return None, buffer
    (size,) = HEADER.unpack_from(buffer)
    if size > MAX_FRAME:
        raise FrameError(f"frame announces {size} bytes, more than {MAX_FRAME}")
    end = HEADER.size + size
    if len(buffer) < end:
        return None, buffer
    return buffer[HEADER.size:end], buffer[end:]


def write_frame(fd: int, obj: object) -> None:
    write_encoded(fd, encode(obj))


def write_encoded(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_frame(stream) -> object:
    """Blocking read of one frame from a binary stream (the child reads its job this way)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("no frame")
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise FrameError("frame too large")
    return decode(stream.read(size))
