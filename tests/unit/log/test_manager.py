"""LogManager: partition dirs, overrides, checkpoints, clean-shutdown marker, delete_topic."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.broker.log import InvalidTopicError, LogConfig, LogManager
from pystreams.broker.log.checkpoint import read_checkpoint
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.unit


def test_create_append_close_reload(tmp_path: Path, clock) -> None:
    mgr = LogManager(tmp_path, LogConfig(), clock=clock)
    log = mgr.create_partition("orders", 2, {"segment.bytes": "5000"})
    assert log.dir == tmp_path / "orders-2" and log.config.segment_bytes == 5000
    assert mgr.create_partition("orders", 2) is log
    log.append(memoryview(make_batch(3)), now_ms=1)
    mgr.create_partition("other.topic_x", 0)
    assert set(mgr.partitions()) == {("orders", 2), ("other.topic_x", 0)}
    mgr.close()
    assert (tmp_path / ".kafka_cleanshutdown").exists()
    assert read_checkpoint(tmp_path / "recovery-point-offset-checkpoint") == {
        ("orders", 2): 3, ("other.topic_x", 0): 0}

    again = LogManager(tmp_path, LogConfig(), clock=clock,
                       topic_overrides={"orders": {"segment.bytes": "5000"}})
    assert again.had_clean_shutdown
    assert not (tmp_path / ".kafka_cleanshutdown").exists()  # a crash from now on is unclean
    log = again.get("orders", 2)
    assert log is not None and log.log_end_offset == 3 and log.config.segment_bytes == 5000
    again.close()


def test_log_start_offset_survives_restart(tmp_path: Path, clock) -> None:
    mgr = LogManager(tmp_path, LogConfig(), clock=clock)
    log = mgr.create_partition("t", 0)
    for i in range(4):
        log.append(memoryview(make_batch(2, tag=i)), now_ms=1)
    assert log.delete_records(5) == 5
    # checkpointed at once, so even a crash (no close) keeps it
    assert read_checkpoint(tmp_path / "log-start-offset-checkpoint") == {("t", 0): 5}
    log.flush()
    del mgr
    again = LogManager(tmp_path, LogConfig(), clock=clock)
    assert not again.had_clean_shutdown
    assert again.get("t", 0).log_start_offset == 5
    again.close()


def test_delete_topic_and_bad_names(tmp_path: Path, clock) -> None:
    mgr = LogManager(tmp_path, LogConfig(), clock=clock)
    for p in range(3):
        mgr.create_partition("gone", p)
    mgr.create_partition("stays", 0)
    assert mgr.delete_topic("gone") == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["stays-0"]
    assert mgr.get("gone", 0) is None
    with pytest.raises(InvalidTopicError) as e:
        mgr.create_partition("bad/name", 0)
    assert e.value.code == 17
    with pytest.raises(InvalidTopicError):
        mgr.create_partition("x" * 250, 0)
    mgr.close()


def test_alter_topic_config_applies_to_open_logs(tmp_path: Path, clock) -> None:
    mgr = LogManager(tmp_path, LogConfig.from_broker_props({"log.retention.hours": "1"}),
                     clock=clock)
    log = mgr.create_partition("t", 0)
    assert log.config.retention_ms == 3_600_000
    mgr.alter_topic_config("t", {"retention.ms": "5"})
    assert log.config.retention_ms == 5 and log.config.overrides == {"retention.ms": "5"}
    mgr.close()


def test_checkpoint_files_use_kafkas_text_format(tmp_path: Path) -> None:
    from pystreams.broker.log.checkpoint import write_checkpoint
    path = tmp_path / "recovery-point-offset-checkpoint"
    write_checkpoint(path, {("b", 1): 7, ("a", 0): 42})
    assert path.read_text() == "0\n2\na 0 42\nb 1 7\n"
    assert read_checkpoint(path) == {("a", 0): 42, ("b", 1): 7}
    path.write_text("0\n3\na 0 42\n")  # count says 3, one line: torn -> ignored
    assert read_checkpoint(path) == {}
    path.write_text("1\n0\n")  # a version we do not know
    assert read_checkpoint(path) == {}
