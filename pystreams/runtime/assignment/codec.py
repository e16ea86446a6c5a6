"""A tiny big-endian writer/reader for the assignor's user data: Kafka's wire types (int8/16/32/64, UUIDs,
strings with an int16 length and -1 for null, bytes with an int32 length) and Java's DataOutputStream.writeUTF
(an unsigned 16-bit length, "modified UTF-8"), which Kafka's hand-written AssignmentInfo uses. Every read checks
the bytes left, so truncated or foreign data fails clearly."""
from __future__ import annotations

import struct
import uuid

from pystreams.errors import PystreamsError


class AssignmentError(PystreamsError):
    """Subscription/assignment user data that is not pystreams' (another client in the group, a newer version,
    corruption), or bad input to the assignor; the message says which."""


_I8, _I16, _U16 = struct.Struct(">b"), struct.Struct(">h"), struct.Struct(">H")
_I32, _I64 = struct.Struct(">i"), struct.Struct(">q")


def java_utf(s: str) -> bytes:
    """Java's modified UTF-8 (DataOutputStream.writeUTF's body): U+0000 as C0 80, characters beyond the BMP as
    two 3-byte surrogates; everything else as UTF-8."""
    if s.isascii() and "\0" not in s:
        return s.encode("ascii")
    utf16 = s.encode("utf-16-be", "surrogatepass")
    units = [utf16[i:i + 2].decode("utf-16-be", "surrogatepass") for i in range(0, len(utf16), 2)]
    return b"".join(b"\xc0\x80" if u == "\0" else u.encode("utf-8", "surrogatepass") for u in units)


def from_java_utf(data: bytes) -> str:
    """The inverse of java_utf; UnicodeDecodeError on bytes Java's readUTF would refuse too."""
    text = data.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be")


class Writer:
    """Appends Kafka-typed fields to a bytearray."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def i8(self, v: int) -> None:
        self.buf += _I8.pack(v)

    def i16(self, v: int) -> None:
        self.buf += _I16.pack(v)

    def i32(self, v: int) -> None:
        self.buf += _I32.pack(v)

    def i64(self, v: int) -> None:
        self.buf += _I64.pack(v)

    def raw(self, b: bytes) -> None:
        self.buf += b

    def uuid(self, u: uuid.UUID) -> None:
        self.buf += u.bytes

    def bytes_(self, b: bytes) -> None:
        """Kafka's non-nullable `bytes`: an int32 length, then the bytes."""
        self.i32(len(b))
        self.buf += b

    def utf(self, s: str) -> None:
        """Java's DataOutputStream.writeUTF: an unsigned 16-bit length, then modified UTF-8."""
        data = java_utf(s)
        if len(data) > 0xFFFF:
            raise AssignmentError(f"string too long for writeUTF ({len(data)} bytes): {s[:40]!r}...")
        self.buf += _U16.pack(len(data))
        self.buf += data

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
                               "Kafka Streams assignor data of a supported version, or corrupt)")

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"needs {n} more bytes, {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def i8(self) -> int:
        return int(_I8.unpack(self._take(1))[0])

    def i16(self) -> int:
        return int(_I16.unpack(self._take(2))[0])

    def i32(self) -> int:
        return int(_I32.unpack(self._take(4))[0])

    def i64(self) -> int:
        return int(_I64.unpack(self._take(8))[0])

    def raw(self, n: int) -> bytes:
        return bytes(self._take(n))

    def rest(self) -> bytes:
        """Every byte not read yet (Kafka's decoders ignore them: pystreams' extension lives there)."""
        return self.raw(len(self.data) - self.pos)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.raw(16))

    def bytes_(self) -> bytes:
        n = self.i32()
        if n < 0:
            raise self.fail(f"bad bytes length {n}")
        return self.raw(n)

    def utf(self) -> str:
        n = int(_U16.unpack(self._take(2))[0])
        try:
            return from_java_utf(bytes(self._take(n)))
        except UnicodeDecodeError:
            raise self.fail("string is not (modified) UTF-8") from None

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
