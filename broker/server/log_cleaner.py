"""The log cleaner task: compaction of `cleanup.policy=compact` (and `compact,delete`) logs in
the background, every `log.cleaner.backoff.ms`, without ever blocking produce or fetch.

Why a worker thread for only part of a pass: PartitionLog is single-threaded (the event loop
owns it). The cleaner plans a pass on the loop (cheap), does the key map and writes the
cleaned segment files on one worker thread (reads of inactive segments only), then swaps the
files in back on the loop (a rename and an index rebuild per cleaned segment)."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pystreams.broker.log.cleaner import CleanResult, build, finish, prepare

log = logging.getLogger("pystreams.broker.server.log_cleaner")


async def clean_once(logs: Any, now_ms: int, executor: ThreadPoolExecutor) -> int:
    """One pass over every compacted log whose dirty ratio is due; returns segments cleaned."""
    loop = asyncio.get_running_loop()
    cleaned = 0
    for tp, plog in list(logs.partitions().items()):
        if plog.closed or not plog.config.compact:
            continue
        job = prepare(plog, plog.first_dirty_offset, now_ms)
        if isinstance(job, CleanResult):
            continue
        try:
            built = await loop.run_in_executor(executor, build, job)
        except (OSError, ValueError):  # the topic was deleted meanwhile, or a damaged batch
            log.warning("cleaning %s failed; will retry", tp, exc_info=True)
            continue
        if plog.closed:
            for _, path in built:
                path.unlink(missing_ok=True)
            continue
        result = finish(plog, job, built, now_ms)
        plog.first_dirty_offset = result.first_dirty_offset
        cleaned += result.segments_cleaned
        if result.segments_cleaned:
            log.info("log cleaned", extra={"partition": str(tp),
                                           "segments": result.segments_cleaned,
                                           "bytes_before": result.bytes_before,
                                           "bytes_after": result.bytes_after})
    logs.write_cleaner_checkpoint()
    return cleaned


async def run_cleaner(state: Any, backoff_ms: int) -> None:
    """Clean forever, `backoff_ms` apart (Kafka's log.cleaner.backoff.ms), until cancelled."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-cleaner")
    try:
        while True:
            await asyncio.sleep(backoff_ms / 1000)
            try:
                await clean_once(state.logs, state.clock_ms(), executor)
            except Exception:
                log.exception("log cleaner pass failed")
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
