"""The cyclic garbage collector's thresholds for a stream-processing process (docs/adr/0007-*).

A running app keeps tens of thousands of GC-tracked objects alive for minutes (the record cache's entries, buffered
records, store iterators); with Python's default thresholds (700, 10, 10) they keep being promoted, and a full
collection, which walks every tracked object of the process and frees almost nothing, runs about once a second under
load (measured: 10 full collections, 0.63 s of a 5 s 1M-record window run). KafkaStreams.start() therefore raises the
thresholds once, when `pystreams.gc.tuning` is true (the default) and the process still runs Python's defaults: a
user or a framework that tuned them keeps theirs. The setting is process-wide (the interpreter has one collector), so
it is logged, and it is not undone on close (another KafkaStreams of the process may still run).
"""
from __future__ import annotations

import gc
import logging
import threading

log = logging.getLogger("pystreams.runtime")

#: pystreams' own key (Kafka has none, the JVM's collectors are tuned by JVM flags): false keeps Python's thresholds
GC_TUNING_CONFIG = "pystreams.gc.tuning"
#: CPython's defaults (gc.get_threshold() in a fresh 3.11 interpreter)
PYTHON_DEFAULT_THRESHOLDS = (700, 10, 10)
#: young collections every 5,000 net allocations instead of 700; a middle one every 10 of those, and the oldest
#: generation examined once per 100 middle ones (CPython also waits for 25% new long-lived objects before it)
STREAMS_THRESHOLDS = (5_000, 10, 100)

_lock = threading.Lock()


def apply_gc_policy(enabled: bool) -> bool:
    """Raise the collector's thresholds for stream processing; True when this call changed them.

    Why here and not per thread: the thresholds are the interpreter's, so the first KafkaStreams to start sets them
    and later ones find them set (not Python's defaults any more) and leave them."""
    if not enabled:
        return False
    with _lock:
        current = gc.get_threshold()
        if current != PYTHON_DEFAULT_THRESHOLDS:
            return False
        gc.set_threshold(*STREAMS_THRESHOLDS)
    log.info("garbage collector thresholds raised from %s to %s for stream processing (process-wide; "
             "%s=false keeps Python's)", current, STREAMS_THRESHOLDS, GC_TUNING_CONFIG)
    return True
