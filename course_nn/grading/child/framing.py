"""The frames parent and child exchange: a 4-byte big-endian length, then a ``torch.save`` blob.

Standard library and torch only: this file is copied into the sandbox beside the runner, and the
parent imports the same definitions, so both sides agree on one format. Frames are read back with
``weights_only=True`` (plain tensors, numbers, strings, lists, dicts — never code), and a frame
announcing more than ``MAX_FRAME`` bytes is refused before anything is read into memory.
"""

from __future__ import annotations

import io
import os
import struct

MAX_FRAME = 64 * 1024 * 1024  # results are small tensors; far more is an attack or a bug
HEADER = struct.Struct(">I")


class FrameError(ValueError):
    """A frame that is too large or cannot be decoded."""


def encode(obj: object) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    if len(data) > MAX_FRAME:
        raise FrameError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(data)) + data


def decode(data: bytes) -> object:
    import torch

    try:
        return torch.load(io.BytesIO(data), weights_only=True)
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
    view = memoryview(encode(obj))
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
