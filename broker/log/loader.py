"""Opening a partition directory (Kafka's LogLoader): drop leftovers, load segments, and after an
unclean shutdown recover every segment from the recovery point on (validate batches, cut a torn
tail, rebuild indexes). Indexes found missing or inconsistent are rebuilt from the .log."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from .config import LogConfig
from .index import CorruptIndexError
from .segment import LogSegment

log = logging.getLogger(__name__)

_SEGMENT_FILE = re.compile(r"^(\d{20})\.(log|index|timeindex|txnindex|snapshot)$")
_LEFTOVER_SUFFIXES = (".deleted", ".cleaned", ".swap", ".tmp")


def load_segments(directory: Path, config: LogConfig, *, recovery_point: int | None,
                  had_clean_shutdown: bool, now_ms: int) -> tuple[list[LogSegment], int]:
    """The directory's segments, oldest first, ready to append to the last one; plus the number
    of bytes truncated by recovery (0 after a clean shutdown with sane files)."""
    bases = _scan_directory(directory)
    segments = [LogSegment(directory, base, index_interval_bytes=config.index_interval_bytes,
                           max_index_size=config.segment_index_bytes, created_ms=now_ms)
                for base in bases]
    for seg, nxt in zip(segments, segments[1:]):
        seg.next_offset = nxt.base_offset
    if not segments:
        return [], 0
    if had_clean_shutdown:
        first_unsafe = len(segments)  # nothing to recover; only sanity checks
    else:
        rp = recovery_point or 0
        first_unsafe = max((i for i, s in enumerate(segments) if s.base_offset <= rp), default=0)
    truncated = 0
    for i, seg in enumerate(segments):
        if i >= first_unsafe:
            cut = seg.recover()
            truncated += cut
            if cut:
                log.warning("recovery cut %d invalid bytes from %s", cut, seg.log_path)
                if i < len(segments) - 1:
                    # data after a hole cannot be trusted in order: Kafka drops later segments
                    for later in segments[i + 1:]:
                        truncated += later.size
                        later.delete_files().close()
                    segments = segments[:i + 1]
                    break
            continue
        try:
            seg.load_indexes()
            if i == len(segments) - 1:
                truncated += seg.load_tail()
        except CorruptIndexError as e:
            log.warning("rebuilding indexes of %s: %s", seg.log_path, e)
            truncated += seg.recover()
    for seg in segments[:-1]:
        seg.release_index_fds()
    return segments, truncated


def _scan_directory(directory: Path) -> list[int]:
    """Base offsets of the .log files; leftovers of interrupted deletes/cleanings removed, and
    index files whose .log is gone removed too (Kafka does the same)."""
    logs: set[int] = set()
    others: list[tuple[int, Path]] = []
    for path in directory.iterdir():
        if path.name.endswith(_LEFTOVER_SUFFIXES):
            path.unlink(missing_ok=True)
            continue
        m = _SEGMENT_FILE.match(path.name)
        if not m:
            continue
        base = int(m.group(1))
        if m.group(2) == "log":
            logs.add(base)
        else:
            others.append((base, path))
    for base, path in others:
        if base not in logs and path.suffix in (".index", ".timeindex", ".txnindex"):
            path.unlink(missing_ok=True)
    return sorted(logs)
