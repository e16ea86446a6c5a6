"""The generated codec functions' code objects, kept on disk like .pyc files (marshal, next to this package's
bytecode: `__pycache__/kafka-codec/` or under PYTHONPYCACHEPREFIX), so a new process loads them instead of
compiling the generated source again. Why: compile() is ~85% of a codec's build (0.3-1.4 ms per API and
version); a client's first requests (ApiVersions, Metadata, FindCoordinator, JoinGroup, SyncGroup, OffsetFetch)
paid ~9 ms of start-up for it.

An entry is named by a hash of the generated source and the interpreter's cache tag, so a changed schema or
compiler (different source) or another Python never reads a stale entry; an unreadable or corrupt entry is
compiled again. Nothing is written when Python writes no bytecode (PYTHONDONTWRITEBYTECODE, -B)."""
from __future__ import annotations

import marshal
import os
import sys
import types
from importlib.util import cache_from_source

_dir: str | None = None


def cache_dir() -> str:
    """Where entries live: a `kafka-codec` folder beside this package's bytecode cache."""
    global _dir
    if _dir is None:
        _dir = os.path.join(os.path.dirname(cache_from_source(__file__)), "kafka-codec")
    return _dir


def compile_cached(source: str, filename: str) -> types.CodeType:
    """compile(source, filename, "exec"), from the disk cache when an entry for this source exists."""
    import hashlib  # at the first compile, not at import: ~2 ms of OpenSSL (an app has it loaded already)

    key = hashlib.blake2b(f"{sys.implementation.cache_tag}\0{filename}\0{source}".encode(), digest_size=16)
    path = os.path.join(cache_dir(), key.hexdigest() + ".code")
    try:
        with open(path, "rb") as f:
            code = marshal.loads(f.read())
        if isinstance(code, types.CodeType):
            return code
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = compile(source, filename, "exec")
    if not sys.dont_write_bytecode:
        _write(path, marshal.dumps(code))
    return code


def _write(path: str, data: bytes) -> None:
    """Write atomically (a temporary file per process and thread, renamed into place: a reader never sees half
    an entry);
    a cache that cannot be written (read-only install) is only slower."""
    import threading

    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
