"""Class-data sharing (AppCDS) archives that make the reference JVMs start faster.

A JVM started from the Kafka jars spends most of its start-up loading and verifying a few
thousand classes. The first run of each role (broker, storage format, the oracle, each tool)
records the classes it loaded into a dynamic archive (-XX:ArchiveClassesAtExit, dumped when the
JVM exits normally); later runs map that archive (-XX:SharedArchiveFile). Measured on the 2-core
machine under load: broker ready in ~3-4 s with the archive against ~6-9 s without.

Archives live in .cache/reference/cds/, named by role and a key over the jars (names, sizes,
mtimes) and the java binary, so a re-fetch or another JDK simply makes new ones. A dump is
written under a temporary name and renamed into place only after a clean exit, so a JVM never
maps a half-written archive; a stale or mismatched archive is ignored by -Xshare:auto.
Set PYSTREAMS_REFERENCE_CDS=0 to turn this off.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.reference import jvm

CDS_DIR = jvm.CACHE / "cds"

# JVM warnings go to stderr, never stdout (tool output is parsed), and the archive dump's
# per-class notes ("Skipping ...: Not linked") are not printed at all.
LOG_FLAGS = ["-Xlog:disable", "-Xlog:all=warning,cds*=off:stderr"]

# exit codes after which a dumped archive is complete: normal exit, and exit on SIGTERM (143)
CLEAN_EXITS = {0, 143}


@dataclass
class Archive:
    """The JVM flags for one run of a role, and what to do once that JVM has exited."""

    flags: list[str]
    role: str = ""
    dump: Path | None = None
    final: Path | None = None

    def finish(self, returncode: int | None) -> None:
        """After the JVM exited: move a freshly dumped archive into place, or drop it."""
        if self.dump is None or self.final is None:
            return
        try:
            if returncode in CLEAN_EXITS and self.dump.exists() and not self.final.exists():
                self.dump.replace(self.final)
                for stale in CDS_DIR.glob(f"{self.role}-{'?' * KEY_LENGTH}.jsa"):
                    if stale != self.final:
                        stale.unlink(missing_ok=True)
        finally:
            self.dump.unlink(missing_ok=True)


def enabled() -> bool:
    """False when PYSTREAMS_REFERENCE_CDS=0 (e.g. to measure start-up without archives)."""
    return os.environ.get("PYSTREAMS_REFERENCE_CDS", "1") != "0"


def archive_for(role: str, extra_classpath: list[Path] | None = None) -> Archive:
    """Flags that use role's archive if there is one, else record one during this run.

    extra_classpath (jars only: CDS does not archive classes from directories) is part of the
    archive's key, since the JVM rejects an archive whose classpath differs.
    """
    if not enabled():
        return Archive(flags=[])
    final = CDS_DIR / f"{role}-{_key(extra_classpath or [])}.jsa"
    if final.exists():
        return Archive(flags=[*LOG_FLAGS, f"-XX:SharedArchiveFile={final}"], role=role)
    CDS_DIR.mkdir(parents=True, exist_ok=True)
    dump = CDS_DIR / f"{final.stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    return Archive(flags=[*LOG_FLAGS, f"-XX:ArchiveClassesAtExit={dump}"], role=role, dump=dump,
                   final=final)


KEY_LENGTH = 12
_jars_key: str | None = None


def _key(extra_classpath: list[Path]) -> str:
    global _jars_key
    if _jars_key is None:
        base = hashlib.sha256()
        java = Path(jvm.java()).resolve()
        base.update(f"{java}:{java.stat().st_mtime_ns}\0".encode())
        for jar in sorted(jvm.LIB.glob("*.jar")):
            stat = jar.stat()
            base.update(f"{jar.name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
        _jars_key = base.hexdigest()
    digest = hashlib.sha256(_jars_key.encode())
    for path in extra_classpath:
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:KEY_LENGTH]
