"""A commit retried after UNKNOWN_TOPIC_OR_PARTITION (ThreadCommit._commit_sync) stops in time for close(timeout):
the close's deadline (close_deadline, set by KafkaStreams.close / remove_stream_thread) less the time kept for
closing tasks and clients ends the backoff, instead of default.api.timeout.ms; a running thread, or one closed
without a timeout, retries until default.api.timeout.ms as Kafka's commitSync."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pystreams.broker.protocol import ErrorCode
from pystreams.runtime.group.errors import GroupError
from pystreams.runtime.thread_commit import CLOSE_MARGIN_S, OffsetCommitTimeoutError, ThreadCommit

pytestmark = pytest.mark.unit


class Group:
    def __init__(self) -> None:
        self.tries = 0

    def commit(self, offsets: Any, metadata: Any = None) -> None:
        self.tries += 1
        raise GroupError("OffsetCommit", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "t-0")

    def request_rejoin(self, reason: str) -> None:
        pass


def _thread(api_timeout_ms: int) -> Any:
    thread: Any = ThreadCommit()
    thread.name, thread.running, thread._group = "t", True, Group()
    thread.config = {"default.api.timeout.ms": api_timeout_ms}
    return thread


def test_a_close_with_a_timeout_ends_the_retries_in_time() -> None:
    thread = _thread(60_000)
    closing_in = CLOSE_MARGIN_S + 0.3

    def close() -> None:  # what KafkaStreams.close(timeout) does on another thread while the commit is retried
        time.sleep(0.2)
        thread.close_deadline = time.monotonic() + closing_in
        thread.running = False

    closer = threading.Thread(target=close)
    started = time.monotonic()
    closer.start()
    with pytest.raises(OffsetCommitTimeoutError, match="not retried: the stream thread is being closed"):
        thread._commit_sync({("t", 0): 5}, {})
    took = time.monotonic() - started
    closer.join()
    assert 0.2 < took < 0.2 + closing_in - CLOSE_MARGIN_S + 0.2, took  # tasks and clients keep the margin
    assert thread._group.tries >= 2


def test_a_running_thread_retries_until_default_api_timeout() -> None:
    thread = _thread(600)
    thread.close_deadline = time.monotonic()  # set, but the thread was not asked to stop: ignored
    started = time.monotonic()
    with pytest.raises(OffsetCommitTimeoutError, match="Timeout of 600ms expired"):
        thread._commit_sync({("t", 0): 5}, {})
    assert 0.6 <= time.monotonic() - started < 1.5
    assert thread._group.tries >= 3
