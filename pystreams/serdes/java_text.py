"""Java's handling of malformed UTF-8, so our StringSerde reads and writes the very same text as
Kafka's StringSerializer/Deserializer (``new String(bytes, UTF_8)`` and ``String.getBytes``) even
for broken input. Only the error paths land here: well-formed UTF-8 is decoded by Python, which
agrees with Java on it. The replacement rules below follow JDK 17's String UTF-8 decoder:
which bytes one U+FFFD stands for differs from Python's ``errors="replace"``."""
from __future__ import annotations

REPLACEMENT = "\ufffd"


def _cont(b: int) -> bool:
    return (b & 0xC0) == 0x80


def decode_utf8(data: bytes) -> str:
    """Decode like Java's ``new String(data, UTF_8)`` (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    n = len(data)
    i = 0
    while i < n:
        b1 = data[i]
        i += 1
        if b1 < 0x80:
            out.append(chr(b1))
        elif 0xC2 <= b1 <= 0xDF:  # two bytes
            if i < n:
                if _cont(data[i]):
                    out.append(chr(((b1 & 0x1F) << 6) | (data[i] & 0x3F)))
                    i += 1
                else:
                    out.append(REPLACEMENT)
                continue
            out.append(REPLACEMENT)
            break
        elif 0xE0 <= b1 <= 0xEF:  # three bytes
            if i + 1 < n:
                b2, b3 = data[i], data[i + 1]
                overlong = b1 == 0xE0 and (b2 & 0xE0) == 0x80
                if overlong or not _cont(b2) or not _cont(b3):
                    out.append(REPLACEMENT)  # one U+FFFD for b1, or for b1 b2 when b2 fits
                    if not (overlong or not _cont(b2)):
                        i += 1
                    continue
                i += 2
                c = ((b1 & 0x0F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F)
                out.append(REPLACEMENT if 0xD800 <= c <= 0xDFFF else chr(c))
                continue
            if i < n and ((b1 == 0xE0 and (data[i] & 0xE0) == 0x80) or not _cont(data[i])):
                out.append(REPLACEMENT)
                continue
            out.append(REPLACEMENT)
            break
        elif 0xF0 <= b1 <= 0xF7:  # four bytes
            if i + 2 < n:
                b2, b3, b4 = data[i], data[i + 1], data[i + 2]
                uc = (((b1 & 0x07) << 18) | ((b2 & 0x3F) << 12) | ((b3 & 0x3F) << 6)
                      | (b4 & 0x3F))
                if not (_cont(b2) and _cont(b3) and _cont(b4)) or not 0x10000 <= uc <= 0x10FFFF:
                    out.append(REPLACEMENT)
                    i += _malformed4_length(b1, b2, b3) - 1
                    continue
                out.append(chr(uc))
                i += 3
                continue
            if b1 > 0xF4 or (i < n and _malformed4_2(b1, data[i])):
                out.append(REPLACEMENT)
                continue
            i += 1
            out.append(REPLACEMENT)
            if i < n and not _cont(data[i]):
                continue
            break
        else:  # 0x80..0xC1, 0xF8..0xFF
            out.append(REPLACEMENT)
    return "".join(out)


def _malformed4_2(b1: int, b2: int) -> bool:
    return ((b1 == 0xF0 and not 0x90 <= b2 <= 0xBF) or (b1 == 0xF4 and (b2 & 0xF0) != 0x80)
            or not _cont(b2))


def _malformed4_length(b1: int, b2: int, b3: int) -> int:
    """How many bytes one U+FFFD replaces for a bad 4-byte sequence."""
    if b1 > 0xF4 or _malformed4_2(b1, b2):
        return 1
    return 2 if not _cont(b3) else 3


def encode_utf8(text: str) -> bytes:
    """Encode like Java's ``getBytes(UTF_8)``: a surrogate pair becomes its 4-byte character, a
    lone surrogate becomes ``?`` (Python would refuse both)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        o = ord(c)
        i += 1
        if 0xD800 <= o <= 0xDBFF and i < n and 0xDC00 <= ord(text[i]) <= 0xDFFF:
            out += chr(0x10000 + ((o - 0xD800) << 10) + (ord(text[i]) - 0xDC00)).encode()
            i += 1
        elif 0xD800 <= o <= 0xDFFF:
            out += b"?"
        else:
            out += c.encode()
    return bytes(out)
