"""A tiny big-endian writer/reader for the assignor's user data (Kafka's wire types: int16/32/64, strings with an
int16 length, -1 for null). Every read checks the bytes left, so truncated or foreign data fails clearly."""
from __future__ import annotations

import struct

from pystreams.errors import PystreamsError


class AssignmentError(PystreamsError):
    """Subscription/assignment user data that is not pystreams' (another client in the group, a newer version,
    corruption), or bad input to the assignor; the message says which."""


_I16, _I32, _I64 = struct.Struct(">h"), struct.Struct(">i"), struct.Struct(">q")


class Writer:
    """Appends Kafka-typed fields to a bytearray."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def i16(self, v: int) -> None:
        self.buf += _I16.pack(v)

    def i32(self, v: int) -> None:
        self.buf += _I32.pack(v)

    def i64(self, v: int) -> None:
        self.buf += _I64.pack(v)

    def raw(self, b: bytes) -> None:
        self.buf += b

    def string(self, s: str | None) -> None:
        if s is None:
            self.i16(-1)
            return
        data = s.encode("utf-8")
        if len(data) > 0x7FFF:
            raise AssignmentError(f"string too long to encode ({len(data)} bytes): {s[:40]!r}...")
        self.i16(len(data))
        self.buf += data


class Reader:
    """Reads what Writer wrote; AssignmentError (naming `what`) on short or malformed data."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = memoryview(bytes(data))
        self.pos = 0
        self.what = what

    def fail(self, why: str) -> AssignmentError:
        return AssignmentError(f"cannot decode {self.what}: {why} at byte {self.pos} of {len(self.data)} (not "
                               "written by a compatible pystreams member, or corrupt)")

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"needs {n} more bytes, {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def i16(self) -> int:
        return int(_I16.unpack(self._take(2))[0])

    def i32(self) -> int:
        return int(_I32.unpack(self._take(4))[0])

    def i64(self) -> int:
        return int(_I64.unpack(self._take(8))[0])

    def raw(self, n: int) -> bytes:
        return bytes(self._take(n))

    def count(self) -> int:
        """An array length: non-negative and not larger than the bytes left could hold."""
        n = self.i32()
        if n < 0 or n > len(self.data) - self.pos:
            raise self.fail(f"bad array length {n}")
        return n

    def string(self) -> str | None:
        n = self.i16()
        if n == -1:
            return None
        if n < 0:
            raise self.fail(f"bad string length {n}")
        try:
            return bytes(self._take(n)).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not UTF-8") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} trailing bytes")
