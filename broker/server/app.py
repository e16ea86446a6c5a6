"""One broker process: open the data dir, load groups, listen, run timers, shut down cleanly.

Why here and not in the CLI: `pystreams broker start`, the EmbeddedBroker child process and
integration tests all run exactly this.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Callable

from pystreams.broker.config import BrokerConfig
from pystreams.broker.coordinator.machine import CoordinatorConfig
from pystreams.broker.coordinator.service import GroupService
from pystreams.broker.metadata import OFFSETS_TOPIC, ClusterMetadata
from pystreams.broker.server.dispatch import Dispatcher
from pystreams.broker.server.fetch_sessions import FetchSessionCache
from pystreams.broker.server.network import KafkaServer
from pystreams.broker.server.state import BrokerState

log = logging.getLogger("pystreams.broker.server")


class Broker:
    """A single-node broker bound to one event loop."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.state: BrokerState | None = None
        self._server: KafkaServer | None = None
        self._timers: list[asyncio.Task[None]] = []
        self.port = 0

    async def start(self) -> int:
        """Recover the logs, replay `__consumer_offsets`, bind; returns the bound port."""
        from pystreams.broker.log import LogConfig, LogManager
        cfg = self.config
        data_dir = cfg.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        metadata = ClusterMetadata(data_dir)
        logs = LogManager(data_dir, LogConfig.from_broker_props(cfg.props),
                          topic_overrides={t.name: t.configs for t in metadata.topics.values()})
        host, port = cfg.listener()
        state = BrokerState(cfg, metadata, logs)
        state.fetch_sessions = FetchSessionCache(
            cfg.get_int("max.incremental.fetch.session.cache.slots"))
        for info in metadata.topics.values():  # a partition dir lost to a crash is recreated
            for p in range(info.num_partitions):
                if logs.get(info.name, p) is None:
                    logs.create_partition(info.name, p, info.configs)
        if OFFSETS_TOPIC not in metadata.topics:
            state.create_topic(OFFSETS_TOPIC, cfg.get_int("offsets.topic.num.partitions"),
                               {"cleanup.policy": "compact",
                                "segment.bytes": str(cfg.get_int("offsets.topic.segment.bytes"))})
        offsets_partitions = metadata.topics[OFFSETS_TOPIC].num_partitions
        group_config = CoordinatorConfig(
            initial_rebalance_delay_ms=cfg.get_int("group.initial.rebalance.delay.ms"),
            min_session_timeout_ms=cfg.get_int("group.min.session.timeout.ms"),
            max_session_timeout_ms=cfg.get_int("group.max.session.timeout.ms"),
            max_size=cfg.get_int("group.max.size"),
            offset_metadata_max_bytes=cfg.get_int("offset.metadata.max.bytes"))
        service = GroupService(group_config, offsets_partitions,
                               lambda p: logs.get(OFFSETS_TOPIC, p), state.clock_ms,
                               cfg.get_int("offsets.retention.minutes") * 60000,
                               cfg.get_int("offsets.retention.check.interval.ms"))
        service.load()
        state.coordinator = service
        self.state = state
        self._server = KafkaServer(Dispatcher(state), host, port,
                                   cfg.get_int("socket.request.max.bytes"))
        self.port = await self._server.start()
        state.host, state.port = cfg.advertised(self.port)
        service.start()
        from pystreams.broker.coordinator.transactions.service import (TRANSACTION_STATE_TOPIC,
                                                                       TransactionService)
        if TRANSACTION_STATE_TOPIC in metadata.topics:  # else created on first transactional use
            TransactionService.of(state)  # replays it, finishes prepared txns, starts its timer
        self._timers.append(asyncio.get_running_loop().create_task(self._housekeeping()))
        if cfg.props.get("log.cleaner.enable", "true").strip().lower() == "true":
            from pystreams.broker.server.log_cleaner import run_cleaner
            backoff = int(cfg.props.get("log.cleaner.backoff.ms", "15000"))
            self._timers.append(asyncio.get_running_loop().create_task(
                run_cleaner(state, backoff)))
        log.info("broker started", extra={"host": state.host, "port": state.port,
                                          "node_id": state.node_id, "data_dir": str(data_dir),
                                          "cluster_id": metadata.cluster_id})
        return self.port

    async def _housekeeping(self) -> None:
        """Kafka's scheduler: retention checks, time-based flushes, recovery-point checkpoints.
        Compaction is not here: the log cleaner task (log_cleaner.py) does it off the loop."""
        assert self.state is not None
        logs = self.state.logs
        retention_every = self.config.get_int("log.retention.check.interval.ms") \
            if "log.retention.check.interval.ms" in self.config.props else 300000
        checkpoint_every = self.config.get_int("log.flush.offset.checkpoint.interval.ms")
        last_retention = last_checkpoint = self.state.clock_ms()
        while True:
            await asyncio.sleep(1.0)
            now = self.state.clock_ms()
            try:
                logs.flush_due(now)
                if now - last_retention >= retention_every:
                    logs.enforce_retention(now)
                    last_retention = now
                if now - last_checkpoint >= checkpoint_every:
                    logs.checkpoint()
                    last_checkpoint = now
            except Exception:
                log.exception("log housekeeping failed")

    async def stop(self) -> None:
        """Stop accepting, end timers, flush logs and write checkpoints (clean shutdown)."""
        if self._server is not None:
            await self._server.stop()
        for task in self._timers:
            task.cancel()
        # wait for them to end (the cleaner finishes the segment it is writing) before closing
        await asyncio.gather(*self._timers, return_exceptions=True)
        if self.state is not None:
            if self.state.coordinator is not None:
                await self.state.coordinator.stop()
            txn = getattr(self.state, "txn", None)
            if txn is not None:
                await txn.stop()
            self.state.logs.close()
        log.info("broker stopped")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (about twice the receive throughput of asyncio's own loop)."""
    try:
        import uvloop
        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run(config: BrokerConfig, on_ready: Callable[[Broker], None] | None = None) -> None:
    """Run a broker until SIGTERM/SIGINT, then shut it down cleanly."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    broker = Broker(config)
    stop = asyncio.Event()

    async def main() -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        try:
            await broker.start()
            if on_ready is not None:
                on_ready(broker)
            await stop.wait()
            log.info("shutdown requested")
        finally:
            await broker.stop()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
