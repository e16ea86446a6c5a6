"""Fetch sessions (KIP-227): the broker remembers a consumer's partitions so incremental fetches
carry only what changed, and answers only partitions with news.

Why: librdkafka and the Java consumer open a session (epoch 0) and then send incremental
requests; a broker that only did sessionless fetches would make them resend every partition.
"""
from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass, field

from pystreams.broker.server import codes

INITIAL_EPOCH = 0
FINAL_EPOCH = -1


@dataclass
class CachedPartition:
    """What the session knows of one partition: the request params and what we last sent."""

    topic: str | None          # None when the topic id is unknown
    topic_id: object
    partition: int
    fetch_offset: int
    max_bytes: int
    sent_hw: int = -2
    sent_log_start: int = -2
    sent_error: int = -2


@dataclass
class FetchSession:
    """One session: its id, the epoch it expects next, and its partitions in request order."""

    session_id: int
    epoch: int
    partitions: "OrderedDict[tuple[object, int], CachedPartition]" = field(default_factory=OrderedDict)


class FetchSessionCache:
    """Sessions by id with an LRU bound (Kafka's max.incremental.fetch.session.cache.slots)."""

    def __init__(self, max_slots: int = 1000) -> None:
        self.max_slots = max_slots
        self._sessions: "OrderedDict[int, FetchSession]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def new_session(self) -> FetchSession | None:
        """A fresh session with epoch 1 expected next, or None when sessions are disabled."""
        if self.max_slots <= 0:
            return None
        while len(self._sessions) >= self.max_slots:
            self._sessions.popitem(last=False)
        sid = random.randint(1, 2**31 - 1)
        while sid in self._sessions:
            sid = random.randint(1, 2**31 - 1)
        session = FetchSession(sid, 1)
        self._sessions[sid] = session
        return session

    def get(self, session_id: int) -> FetchSession | None:
        """The session, marked recently used; None when unknown (evicted or never made)."""
        session = self._sessions.get(session_id)
        if session is not None:
            self._sessions.move_to_end(session_id)
        return session

    def remove(self, session_id: int) -> None:
        """Close a session (the client sent the final epoch or re-initialised)."""
        self._sessions.pop(session_id, None)

    def forget_topic(self, topic: str) -> None:
        """Drop a deleted topic from every session (clients then see it as unknown)."""
        for session in self._sessions.values():
            for key in [k for k, cp in session.partitions.items() if cp.topic == topic]:
                del session.partitions[key]


def resolve(cache: FetchSessionCache, session_id: int, epoch: int
            ) -> tuple[int, FetchSession | None, bool]:
    """(error, session, is_full) for a request's session fields, per KIP-227.

    Sessionless (id 0, epoch -1) -> (0, None, True); epoch 0 -> a new session (closing
    `session_id` if given); epoch -1 with an id closes it and fetches sessionless; any other
    epoch must match the session's expected epoch."""
    if epoch == FINAL_EPOCH:
        if session_id:
            cache.remove(session_id)
        return codes.NONE, None, True
    if epoch == INITIAL_EPOCH:
        if session_id:
            cache.remove(session_id)
        return codes.NONE, cache.new_session(), True
    session = cache.get(session_id)
    if session is None:
        return codes.FETCH_SESSION_ID_NOT_FOUND, None, False
    if session.epoch != epoch:
        return codes.INVALID_FETCH_SESSION_EPOCH, None, False
    return codes.NONE, session, False


def next_epoch(epoch: int) -> int:
    """Kafka's epoch sequence: wraps from int32 max back to 1 (0 and -1 are reserved)."""
    return 1 if epoch >= 2**31 - 1 else epoch + 1
