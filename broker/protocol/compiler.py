"""Compiles a message schema at one version into straight-line Python (exec'd once per
(api, version, direction)): consecutive fixed-width fields are read or written with one
precompiled struct.Struct, every declared length is checked against the remaining bytes before
anything is allocated, record bytes are memoryview slices on the way in and separate buffers on
the way out. The generated source is kept on the function (`__source__`) for debugging; its code object is
cached on disk (code_cache.py), so later processes skip compile()."""
from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from .code_cache import compile_cached
from .errors import CorruptMessageError
from .primitives import read_uvarint, records_parts, uuid_bytes, uvarint_bytes
from .schema import F, in_range

# Kafka type -> struct code for fixed-width types
FIXED = {"int8": "b", "int16": "h", "int32": "i", "int64": "q", "uint16": "H", "uint32": "I",
         "float64": "d", "bool": "?", "uuid": "16s"}

SMALL_ARRAY = 64

Decoder = Callable[[memoryview, int, int], tuple[dict[str, Any], int]]
Encoder = Callable[[dict[str, Any], list[Any]], None]


def _is_fixed(f: F) -> bool:
    """A single fixed-width value: it can share one struct.Struct with its fixed-width neighbours."""
    return not f.is_array and not f.is_struct and f.elem in FIXED


def _runs(fields: list[F]) -> Iterator[list[F]]:
    """The fields in order, consecutive fixed-width ones together (one Struct each run), others alone."""
    run: list[F] = []
    for f in fields:
        if _is_fixed(f):
            run.append(f)
            continue
        if run:
            yield run
            run = []
        yield [f]
    if run:
        yield run


class _Gen:
    """Accumulates generated functions and the constants they refer to."""

    def __init__(self, version: int, flexible: bool) -> None:
        self.version = version
        self.flexible = flexible
        self.out: list[str] = []
        self.ns: dict[str, Any] = {
            "_UUID": uuid.UUID, "_uv": read_uvarint, "_uvb": uvarint_bytes, "_ub": uuid_bytes,
            "_recs": records_parts, "_Corrupt": CorruptMessageError, "_unpack": struct.unpack_from,
            "_pack": struct.pack, "_H": struct.Struct(">h"), "_I": struct.Struct(">i"),
        }
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any) -> str:
        if value is None or isinstance(value, (bool, int, float, str, bytes)):
            return repr(value)
        key = self.name("_k")
        self.ns[key] = value
        return key

    def struct(self, fmt: str) -> str:
        return self.const(struct.Struct(">" + fmt))

    def array_structs(self, code: str) -> str:
        """A list of precompiled Structs for arrays of 0..63 `code` elements (formatting a
        struct format string per call costs more than the packing itself)."""
        name = f"_A{ {'?': 'bool'}.get(code, code) }"
        if name not in self.ns:
            self.ns[name] = [struct.Struct(f">{n}{code}") for n in range(SMALL_ARRAY)]
        return name

    # -- helpers about fields at this version -------------------------------------------
    def present(self, fields: tuple[F, ...]) -> list[F]:
        return [f for f in fields if in_range(self.version, f.versions)]

    def is_tagged(self, f: F) -> bool:
        return self.flexible and f.tag is not None and in_range(self.version, f.tagged)

    def nullable(self, f: F) -> bool:
        return in_range(self.version, f.nullable)

    def default_expr(self, f: F) -> str:
        if f.is_array:
            return "None" if f.default is None else "[]"
        if f.is_struct:
            assert f.fields is not None
            if f.default is None:
                return "None"
            items = ", ".join(f"{sf.name!r}: {self.default_expr(sf)}" for sf in self.present(f.fields))
            return "{" + items + "}"
        return self.const(f.default_value(self.version))

    # -- decoding -----------------------------------------------------------------------
    def read_len(self, ind: str, var: str, wide: bool) -> list[str]:
        """A length prefix: compact (uvarint - 1) in flexible versions, else int16/int32."""
        if self.flexible:
            return [f"{ind}{var} = buf[o]", f"{ind}o += 1",
                    f"{ind}if {var} > 127: {var}, o = _uv(buf, o - 1)", f"{ind}{var} -= 1"]
        s = "_I" if wide else "_H"
        return [f"{ind}{var}, = {s}.unpack_from(buf, o)", f"{ind}o += {4 if wide else 2}"]

    def read_uv(self, ind: str, var: str) -> list[str]:
        return [f"{ind}{var} = buf[o]", f"{ind}o += 1", f"{ind}if {var} > 127: {var}, o = _uv(buf, o - 1)"]

    def null_or_fail(self, ind: str, f: F, target: str) -> list[str]:
        if self.nullable(f):
            return [f"{ind}{target} = None"]
        return [f"{ind}raise _Corrupt('{f.name}: null in a non-nullable field')"]

    def read_value(self, f: F, elem_only: bool, target: str, end: str, ind: str) -> list[str]:
        """Lines that read one value of field `f` (its element type if elem_only) into target."""
        t = f.elem
        if f.is_array and not elem_only:
            n = self.name("n")
            lines = self.read_len(ind, n, wide=True)
            lines += [f"{ind}if {n} < 0:"] + self.null_or_fail(ind + "    ", f, target)
            lines += [f"{ind}elif {n} > {end} - o:",
                      f"{ind}    raise _Corrupt(f'{f.name}: {{{n}}} elements but {{{end} - o}} bytes left')",
                      f"{ind}else:"]
            i2 = ind + "    "
            if t in FIXED and t != "uuid":
                size = struct.calcsize(">" + FIXED[t])
                arr = self.array_structs(FIXED[t])
                lines += [f"{i2}if {n} * {size} > {end} - o: raise _Corrupt('{f.name}: truncated')",
                          f"{i2}{target} = list({arr}[{n}].unpack_from(buf, o) if {n} < {SMALL_ARRAY} "
                          f"else _unpack(f'>{{{n}}}{FIXED[t]}', buf, o))",
                          f"{i2}o += {n} * {size}"]
            elif f.is_struct:  # element bodies are inlined: no call per element
                x = self.name("x")
                lines += [f"{i2}{target} = []", f"{i2}for _ in range({n}):"]
                lines += self.decode_body(f.fields or (), x, end, i2 + "    ")
                lines += [f"{i2}    {target}.append({x})"]
            else:
                x = self.name("x")
                lines += [f"{i2}{target} = []", f"{i2}for _ in range({n}):"]
                lines += self.read_value(f, True, x, end, i2 + "    ")
                lines += [f"{i2}    {target}.append({x})"]
            return lines
        if f.is_struct:
            body = self.decode_body(f.fields or (), target, end, ind + "    ")
            if self.nullable(f):  # a nullable struct has an int8 presence marker (-1: null)
                return [f"{ind}if buf[o] >= 128:", f"{ind}    o += 1", f"{ind}    {target} = None",
                        f"{ind}else:", f"{ind}    o += 1"] + body
            return [f"{ind}if True:"] + body
        if t == "uuid":
            return [f"{ind}if o + 16 > {end}: raise _Corrupt('{f.name}: truncated')",
                    f"{ind}{target} = _UUID(bytes=bytes(buf[o:o + 16]))", f"{ind}o += 16"]
        if t in FIXED:
            s = self.struct(FIXED[t])
            return [f"{ind}{target}, = {s}.unpack_from(buf, o)", f"{ind}o += {struct.calcsize('>' + FIXED[t])}"]
        n = self.name("n")
        lines = self.read_len(ind, n, wide=(t != "string"))
        conv = {"string": "str(buf[o:o + {n}], 'utf-8')", "bytes": "bytes(buf[o:o + {n}])",
                "records": "buf[o:o + {n}]"}[t].format(n=n)
        lines += [f"{ind}if {n} < 0:"] + self.null_or_fail(ind + "    ", f, target)
        lines += [f"{ind}elif {n} > {end} - o:",
                  f"{ind}    raise _Corrupt(f'{f.name}: length {{{n}}} but {{{end} - o}} bytes left')",
                  f"{ind}else:", f"{ind}    {target} = {conv}", f"{ind}    o += {n}"]
        return lines

    def decoder(self, fields: tuple[F, ...]) -> str:
        """Generate `def dN(buf, o, end) -> (dict, o)` for a message; returns its name."""
        fn = self.name("_d")
        self.out += [f"def {fn}(buf, o, end):"] + self.decode_body(fields, "r", "end", "    ")
        self.out += ["    return r, o", ""]
        return fn

    def decode_body(self, fields: tuple[F, ...], target: str, end: str, ind: str) -> list[str]:
        """Lines that read a struct at `o` into a dict `target` (names unique: bodies nest)."""
        present = self.present(fields)
        regular = [f for f in present if not self.is_tagged(f)]
        tagged = [f for f in present if self.is_tagged(f)]
        var = {f.name: self.name("v") for f in present}
        body: list[str] = []
        for run in _runs(regular):
            if not _is_fixed(run[0]):
                body += self.read_value(run[0], False, var[run[0].name], end, ind)
                continue
            fmt = "".join(FIXED[g.elem] for g in run)
            s = self.struct(fmt)
            names = ", ".join(var[g.name] for g in run)
            body += [f"{ind}{names}, = {s}.unpack_from(buf, o)", f"{ind}o += {struct.calcsize('>' + fmt)}"]
            body += [f"{ind}{var[g.name]} = _UUID(bytes={var[g.name]})" for g in run if g.elem == "uuid"]
        if self.flexible:
            nt, tag, sz, te = (self.name(x) for x in ("nt", "tag", "sz", "te"))
            i2, i3 = ind + "    ", ind + "        "
            body += [f"{ind}{var[f.name]} = {self.default_expr(f)}" for f in tagged]
            body += [f"{ind}if buf[o] == 0:", f"{i2}o += 1", f"{ind}else:"]  # fast path: no tagged fields
            body += self.read_uv(i2, nt)
            body += [f"{i2}if {nt} > {end} - o: raise _Corrupt('tagged fields: count beyond the frame')",
                     f"{i2}for _ in range({nt}):"]
            body += self.read_uv(i3, tag) + self.read_uv(i3, sz)
            body += [f"{i3}if {sz} > {end} - o: raise _Corrupt('tagged field: size beyond the frame')",
                     f"{i3}{te} = o + {sz}"]
            for k, f in enumerate(sorted(tagged, key=lambda g: g.tag or 0)):
                body += [f"{i3}{'if' if k == 0 else 'elif'} {tag} == {f.tag}:"]
                body += self.read_value(f, False, var[f.name], te, i3 + "    ")
            body += [f"{i3}o = {te}"]
        items = [f"{f.name!r}: {var[f.name]}" for f in present]
        items += [f"{f.name!r}: {self.default_expr(f)}" for f in fields if f not in present]
        body += [f"{ind}{target} = {{" + ", ".join(items) + "}"]
        return body

    # -- encoding -----------------------------------------------------------------------
    def write_uv(self, ind: str, expr: str) -> list[str]:
        return [f"{ind}if {expr} < 128: b.append({expr})", f"{ind}else: b += _uvb({expr})"]

    def write_len(self, ind: str, expr: str, wide: bool) -> list[str]:
        if self.flexible:
            m = self.name("m")
            return [f"{ind}{m} = {expr} + 1"] + self.write_uv(ind, m)
        return [f"{ind}b += {'_I' if wide else '_H'}.pack({expr})"]

    def write_null(self, ind: str, f: F, wide: bool) -> list[str]:
        if not self.nullable(f):
            return [f"{ind}raise ValueError('{f.name}: None in a non-nullable field')"]
        if self.flexible:
            return [f"{ind}b.append(0)"]
        null = repr(b"\xff" * (4 if wide else 2))
        return [f"{ind}b += {null}"]

    def write_value(self, f: F, elem_only: bool, v: str, ind: str) -> list[str]:
        t = f.elem
        i2 = ind + "    "
        if f.is_array and not elem_only:
            lines = [f"{ind}if {v} is None:"] + self.write_null(i2, f, True) + [f"{ind}else:"]
            lines += self.write_len(i2, f"len({v})", True)
            if t in FIXED and t != "uuid":
                arr = self.array_structs(FIXED[t])
                lines += [f"{i2}b += ({arr}[len({v})].pack(*{v}) if len({v}) < {SMALL_ARRAY} "
                          f"else _pack(f'>{{len({v})}}{FIXED[t]}', *{v}))"]
            elif f.is_struct:  # element bodies are inlined: no call per element
                x = self.name("x")
                lines += [f"{i2}for {x} in {v}:"] + self.encode_body(f.fields or (), x, i2 + "    ")
            else:
                x = self.name("x")
                lines += [f"{i2}for {x} in {v}:"] + self.write_value(f, True, x, i2 + "    ")
            return lines
        if f.is_struct:
            if self.nullable(f):  # int8 presence marker, -1 for null
                return [f"{ind}if {v} is None:", f"{ind}    b.append(255)", f"{ind}else:",
                        f"{i2}b.append(1)"] + self.encode_body(f.fields or (), v, i2)
            return [f"{ind}if True:"] + self.encode_body(f.fields or (), v, i2)
        if t == "uuid":
            return [f"{ind}b += _ub({v})"]
        if t in FIXED:
            return [f"{ind}b += {self.struct(FIXED[t])}.pack({v})"]
        wide = t != "string"
        lines = [f"{ind}if {v} is None:"] + self.write_null(i2, f, wide) + [f"{ind}else:"]
        if t == "string":
            s = self.name("s")
            lines += [f"{i2}{s} = {v}.encode()"] + self.write_len(i2, f"len({s})", False) + [f"{i2}b += {s}"]
        elif t == "bytes":
            s = self.name("s")
            lines += [f"{i2}{s} = {v}.nbytes if type({v}) is memoryview else len({v})"]
            lines += self.write_len(i2, s, True) + [f"{i2}b += {v}"]
        else:  # records: never copied into our buffer
            rl, n = self.name("rl"), self.name("n")
            lines += [f"{i2}{rl}, {n} = _recs({v})"] + self.write_len(i2, n, True)
            lines += [f"{i2}if {rl}:", f"{i2}    parts.extend({rl})", f"{i2}    b = bytearray()",
                      f"{i2}    parts.append(b)"]
        return lines

    def get_expr(self, f: F, d: str) -> str:
        """The value of field `f` in dict `d`, or Kafka's default."""
        if f.is_array:
            return f"{d}.get({f.name!r}, {'None' if f.default is None else '()'})"
        if f.is_struct:
            if f.default is None:
                return f"{d}.get({f.name!r})"
            return f"{d}.get({f.name!r}) or {self.const(f.default_value(self.version))}"
        return f"{d}.get({f.name!r}, {self.const(f.default_value(self.version))})"

    def encoder(self, fields: tuple[F, ...]) -> str:
        """Generate `def eN(d, parts)` appending a message's bytes to parts[-1] (a bytearray);
        record buffers are appended to parts as they are, followed by a fresh bytearray."""
        fn = self.name("_e")
        self.out += [f"def {fn}(d, parts):", "    b = parts[-1]"] + self.encode_body(fields, "d", "    ") + [""]
        return fn

    def encode_body(self, fields: tuple[F, ...], d: str, ind: str) -> list[str]:
        """Lines that append the struct in dict `d` to `b` (names unique: bodies nest)."""
        present = self.present(fields)
        regular = [f for f in present if not self.is_tagged(f)]
        tagged = sorted((f for f in present if self.is_tagged(f)), key=lambda g: g.tag or 0)
        body: list[str] = []
        for run in _runs(regular):
            if not _is_fixed(run[0]):
                v = self.name("v")
                body += [f"{ind}{v} = {self.get_expr(run[0], d)}"] + self.write_value(run[0], False, v, ind)
                continue
            s = self.struct("".join(FIXED[g.elem] for g in run))
            args = ", ".join(f"_ub({self.get_expr(g, d)})" if g.elem == "uuid" else self.get_expr(g, d)
                             for g in run)
            body += [f"{ind}b += {s}.pack({args})"]
        if self.flexible and not tagged:
            body += [f"{ind}b.append(0)"]
        elif self.flexible:
            tg, v, t, data = (self.name(x) for x in ("tg", "v", "t", "data"))
            body += [f"{ind}{tg} = []"]
            for f in tagged:
                helper = self.tagged_encoder(f)
                dflt = self.default_expr(f)
                if f.is_struct:  # compare with a shared default dict, not a fresh literal
                    body += [f"{ind}{v} = {d}.get({f.name!r})",
                             f"{ind}if {v} and {v} != {self.const(f.default_value(self.version))}: "
                             f"{tg}.append(({f.tag}, {helper}({v})))"]
                    continue
                cond = f"{v} is not None" if dflt == "None" else (v if dflt == "[]" else f"{v} != {dflt}")
                body += [f"{ind}{v} = {self.get_expr(f, d)}", f"{ind}if {cond}: {tg}.append(({f.tag}, {helper}({v})))"]
            body += [f"{ind}b.append(len({tg}))", f"{ind}for {t}, {data} in {tg}:"]
            body += self.write_uv(ind + "    ", t) + self.write_uv(ind + "    ", f"len({data})")
            body += [f"{ind}    b += {data}"]
        return body

    def tagged_encoder(self, f: F) -> str:
        if f.elem == "records":
            raise NotImplementedError("records in a tagged field")
        fn = self.name("_t")
        body = ["    parts = [bytearray()]", "    b = parts[0]"]
        body += self.write_value(f, False, "v", "    ") + ["    return b"]
        self.out += [f"def {fn}(v):"] + body + [""]
        return fn

    def build(self, entry: str) -> Any:
        source = "\n".join(self.out)
        exec(compile_cached(source, f"<kafka-codec {entry}>"), self.ns)
        fn = self.ns[entry]
        fn.__source__ = source
        return fn


def compile_decoder(fields: tuple[F, ...], version: int, flexible: bool) -> Decoder:
    """A function (buf, offset, end) -> (body dict, new offset) for `fields` at `version`."""
    gen = _Gen(version, flexible)
    return gen.build(gen.decoder(fields))  # type: ignore[no-any-return]


def compile_encoder(fields: tuple[F, ...], version: int, flexible: bool) -> Encoder:
    """A function (body dict, parts) that appends the encoded body to parts (parts[-1] a bytearray)."""
    gen = _Gen(version, flexible)
    return gen.build(gen.encoder(fields))  # type: ignore[no-any-return]
