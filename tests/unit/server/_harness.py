"""A broker state on a temp dir and a dispatcher driven with encoded frames: handlers and codec
together, no sockets."""
from __future__ import annotations

import asyncio

from pystreams.broker.config import BrokerConfig
from pystreams.broker.coordinator.machine import CoordinatorConfig
from pystreams.broker.coordinator.service import GroupService
from pystreams.broker.log import LogConfig, LogManager
from pystreams.broker.metadata import OFFSETS_TOPIC, ClusterMetadata
from pystreams.broker.protocol import RequestHeader, decode_response, encode_request
from pystreams.broker.server.dispatch import Dispatcher
from pystreams.broker.server.fetch_sessions import FetchSessionCache
from pystreams.broker.server.state import BrokerState


class Node:
    """BrokerState + Dispatcher on `data_dir`; `call(api, version, body)` -> response body."""

    def __init__(self, data_dir, **props: str) -> None:
        self.config = BrokerConfig({"log.dirs": str(data_dir), "offsets.topic.num.partitions": "3",
                                    "group.initial.rebalance.delay.ms": "0", **props})
        metadata = ClusterMetadata(data_dir)
        self.logs = LogManager(data_dir, LogConfig.from_broker_props(self.config.props))
        self.state = BrokerState(self.config, metadata, self.logs, port=9092)
        self.state.fetch_sessions = FetchSessionCache(10)
        if OFFSETS_TOPIC not in metadata.topics:
            self.state.create_topic(OFFSETS_TOPIC, 3, {"cleanup.policy": "compact"})
        self.state.coordinator = GroupService(CoordinatorConfig(initial_rebalance_delay_ms=0), 3,
                                              lambda p: self.logs.get(OFFSETS_TOPIC, p),
                                              self.state.clock_ms)
        self.state.coordinator.load()
        self.dispatcher = Dispatcher(self.state)
        self.correlation = 0

    async def acall(self, api: int, version: int, body: dict) -> dict | None:
        self.correlation += 1
        correlation = self.correlation
        frame = encode_request(RequestHeader(api, version, correlation, "unit"), body)[4:]
        buffers = await self.dispatcher(memoryview(frame), None)
        if buffers is None:
            return None
        raw = b"".join(bytes(b) for b in buffers)
        corr, decoded = decode_response(api, version, raw[4:])
        assert corr == correlation
        return decoded

    def call(self, api: int, version: int, body: dict) -> dict | None:
        return asyncio.run(self.acall(api, version, body))

    def close(self) -> None:
        self.logs.close()
