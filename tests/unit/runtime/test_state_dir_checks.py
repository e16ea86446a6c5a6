"""An unusable state.dir is refused when KafkaStreams is constructed (audit s7 H8), as Kafka's StateDirectory
constructor does: StateDirectoryError (a PystreamsError, so `pystreams run` prints one error line) with Kafka's
wording and the OS's reason, not a raw OSError from start()."""
from __future__ import annotations

import os

import pytest

from pystreams import KafkaStreams, Materialized, StreamsBuilder
from pystreams.errors import PystreamsError
from pystreams.runtime import state_directory
from pystreams.runtime.state_directory import (
    StateDirectory,
    StateDirectoryError,
    ensure_state_dir,
)

pytestmark = pytest.mark.unit

SERDES = {"default.key.serde": "string", "default.value.serde": "string"}


def _topology(stateful: bool):
    builder = StreamsBuilder()
    stream = builder.stream("in")
    if stateful:
        stream.group_by_key().count(Materialized.as_("counts")).to_stream().to("out")
    else:
        stream.to("out")
    return builder.build()


def _streams(state_dir: str, stateful: bool = True) -> KafkaStreams:
    return KafkaStreams(_topology(stateful), {"application.id": "app", "state.dir": state_dir, **SERDES})


def test_state_dir_is_checked_not_made_at_construction(tmp_path):
    """Kafka's StateDirectory makes it in the constructor; pystreams waits for start(): `pystreams run --instances`
    validates the config with a KafkaStreams on the shared state.dir, which must stay empty."""
    _streams(str(tmp_path / "a" / "b"))
    assert not os.path.exists(tmp_path / "a")


def test_a_stateless_topology_makes_nothing_at_construction(tmp_path):
    _streams(str(tmp_path / "a"), stateful=False)
    assert not os.path.exists(tmp_path / "a")


@pytest.mark.parametrize("stateful", [True, False])
def test_a_regular_file_as_state_dir_is_kafkas_message(tmp_path, stateful):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(StateDirectoryError) as info:
        _streams(str(afile), stateful)
    assert str(info.value) == (f"state directory [{afile}/app] doesn't exist and couldn't be created: "
                               f"{os.strerror(20)}")
    assert isinstance(info.value, PystreamsError)


@pytest.mark.parametrize("stateful", [True, False])
def test_a_base_dir_under_a_file_cannot_be_created(tmp_path, stateful):
    (tmp_path / "afile").write_text("x")
    base = tmp_path / "afile" / "deeper"
    with pytest.raises(StateDirectoryError, match=rf"^base state directory \[{base}\] doesn't exist and couldn't "
                                                  rf"be created: {os.strerror(20)}$"):
        _streams(str(base), stateful)


def test_an_application_dir_that_is_a_file_is_kafkas_message(tmp_path):
    (tmp_path / "app").write_text("x")
    with pytest.raises(StateDirectoryError, match=r"can't be created as there is an existing file with the same"):
        ensure_state_dir(str(tmp_path), "app", create=True)


def test_the_os_reason_of_a_failed_mkdir_is_kept(tmp_path, monkeypatch):
    def refuse(path, exist_ok=False):
        raise PermissionError(13, os.strerror(13), path)

    monkeypatch.setattr(state_directory.os, "makedirs", refuse)
    with pytest.raises(StateDirectoryError, match=rf"^base state directory \[{tmp_path}/x\] doesn't exist and "
                                                  rf"couldn't be created: {os.strerror(13)}$"):
        ensure_state_dir(str(tmp_path / "x"), "app", create=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_a_directory_without_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(StateDirectoryError, match=r"^state directory .* doesn't exist and couldn't be created"):
            _streams(str(locked))
        with pytest.raises(StateDirectoryError, match=r"^state directory .* doesn't exist and couldn't be created"):
            _streams(str(locked), stateful=False)
    finally:
        locked.chmod(0o700)


def test_a_lock_that_cannot_be_taken_is_a_state_directory_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StateDirectoryError, match=r"^state directory \[.*afile/app\] doesn't exist and couldn't"):
        StateDirectory(str(tmp_path / "afile"), "app").lock()
