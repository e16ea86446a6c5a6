"""rocksdb.config.setter (Kafka's RocksDBConfigSetter) applied by store_options(): a class makes one instance per
store, whose set_config(store_name, options, configs) runs once before the DB opens and whose close(store_name,
options) runs when the store closes; the settings reach RocksDB (read back from the OPTIONS file RocksDB writes);
text values import 'module:attr' / 'module.attr'; bad values and a setter that replaces the raw-mode Options are
refused with a ConfigError naming rocksdb.config.setter, the value and what is expected."""
from __future__ import annotations

import glob
import logging
import os
from typing import Any

import pytest
from rocksdict import Options, Rdict

from pystreams.errors import ConfigError, StateStoreError
from pystreams.state.internals.rocksdb_options import (
    CONFIG_SETTER,
    RocksDBConfigSetter,
    config_setter_factory,
    store_options,
)

pytestmark = pytest.mark.unit

THIS = __name__
CALLS: list[tuple[Any, ...]] = []


class BigBuffers(RocksDBConfigSetter):
    """Sets a 3 MiB write buffer and 321 open files; records every call with the instance that made it."""

    def set_config(self, store_name: str, options: Options, configs: dict[str, Any]) -> None:
        CALLS.append(("set", self, store_name, configs.get("application.id")))
        options.set_write_buffer_size(3 * 1024 * 1024)
        options.set_max_open_files(321)

    def close(self, store_name: str, options: Options) -> None:
        CALLS.append(("close", self, store_name))


class NoSetConfig:
    def configure(self, store_name: str) -> None:
        pass


class NeedsArgs(RocksDBConfigSetter):
    def __init__(self, size: int) -> None:
        self.size = size


class Replaces(RocksDBConfigSetter):
    def set_config(self, store_name: str, options: Options, configs: dict[str, Any]) -> Options:
        return Options(raw_mode=False)


class Breaks(RocksDBConfigSetter):
    def set_config(self, store_name: str, options: Options, configs: dict[str, Any]) -> None:
        raise ValueError("no such option")


class CloseBreaks(RocksDBConfigSetter):
    def close(self, store_name: str, options: Options) -> None:
        raise RuntimeError("close broke")


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


def _rocksdb_options_file(path: str) -> dict[str, str]:
    """key=value lines of the newest OPTIONS file RocksDB wrote for the DB at path."""
    newest = max(glob.glob(os.path.join(path, "OPTIONS-*")), key=lambda p: int(p.rsplit("-", 1)[1]))
    pairs = {}
    with open(newest, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.strip().partition("=")
            if sep:
                pairs.setdefault(key, value)
    return pairs


def _open_and_close(tmp_path: Any, name: str, configs: dict[str, Any]) -> dict[str, str]:
    opened = store_options(name, configs)
    path = str(tmp_path / name)
    db = Rdict(path, opened.options)
    db[b"k"] = b"v"  # raw mode: bytes in, bytes out
    assert db[b"k"] == b"v"
    db.close()
    opened.close()
    opened.close()  # a second close calls nothing
    return _rocksdb_options_file(path)


@pytest.mark.parametrize("value", [BigBuffers, f"{THIS}:BigBuffers", f"{THIS}.BigBuffers"],
                         ids=["class", "module:attr", "module.attr"])
def test_a_setter_class_is_made_and_called_once_per_store_and_closed_with_it(tmp_path, value):
    configs = {"application.id": "app-1", CONFIG_SETTER: value}
    first = _open_and_close(tmp_path, "store-a", configs)
    second = _open_and_close(tmp_path, "store-b", configs)
    for written in (first, second):  # what RocksDB actually opened with
        assert written["write_buffer_size"] == str(3 * 1024 * 1024)
        assert written["max_open_files"] == "321"
        assert written["create_if_missing"] == "true"
    assert [c[0] for c in CALLS] == ["set", "close", "set", "close"]
    assert [c[2] for c in CALLS] == ["store-a", "store-a", "store-b", "store-b"]
    assert CALLS[0][3] == "app-1"  # the app's configs reach set_config
    assert CALLS[0][1] is CALLS[1][1] and CALLS[2][1] is CALLS[3][1]  # one instance per store, as Kafka
    assert CALLS[0][1] is not CALLS[2][1]


def test_without_a_setter_the_store_defaults_apply(tmp_path):
    written = _open_and_close(tmp_path, "plain", {"application.id": "app-1"})
    assert written["write_buffer_size"] != str(3 * 1024 * 1024) and written["max_open_files"] != "321"
    assert config_setter_factory({}) is None and config_setter_factory({CONFIG_SETTER: None}) is None
    opened = store_options("s", None, create_missing_column_families=True, max_file_opening_threads=1)
    db = Rdict(str(tmp_path / "s"), opened.options)
    db.close()
    written = _rocksdb_options_file(str(tmp_path / "s"))
    assert written["max_file_opening_threads"] == "1" and written["create_missing_column_families"] == "true"


def test_a_shared_object_and_a_plain_function_are_accepted(tmp_path):
    shared = BigBuffers()
    _open_and_close(tmp_path, "a", {CONFIG_SETTER: shared})
    _open_and_close(tmp_path, "b", {CONFIG_SETTER: shared})
    assert all(c[1] is shared for c in CALLS)
    assert [(c[0], c[2]) for c in CALLS] == [("set", "a"), ("close", "a"), ("set", "b"), ("close", "b")]
    seen = []

    def tune(store_name: str, options: Options, configs: dict[str, Any]) -> None:
        seen.append(store_name)
        options.set_max_open_files(77)

    assert _open_and_close(tmp_path, "c", {CONFIG_SETTER: tune})["max_open_files"] == "77"
    assert seen == ["c"]


@pytest.mark.parametrize(("value", "says"), [
    ("no_such_module_xyz:Setter", "cannot import module 'no_such_module_xyz'"),
    (f"{THIS}:Missing", f"module '{THIS}' has no 'Missing'"),
    ("Setter", "is not an importable 'package.module:Class'"),
    (42, "(int): expected a RocksDBConfigSetter class"),
    (NoSetConfig, "class NoSetConfig has no set_config(store_name, options, configs)"),
    (NeedsArgs, "class NeedsArgs cannot be made without arguments"),
], ids=["no-module", "no-attr", "no-module-part", "int", "no-set_config", "needs-args"])
def test_a_bad_value_is_a_config_error_naming_the_key_and_value(tmp_path, value, says):
    with pytest.raises(ConfigError) as info:
        store_options("s", {CONFIG_SETTER: value})
    message = str(info.value)
    assert message.startswith(f"{CONFIG_SETTER}=") and says in message, message
    assert repr(value) in message or (hasattr(value, "__name__") and value.__name__ in message)


def test_a_setter_replacing_the_raw_mode_options_is_refused():
    with pytest.raises(ConfigError, match="rocksdb.config.setter .*returned Options: it must change the Options it "
                                          "is given in place .*raw mode"):
        store_options("s", {CONFIG_SETTER: Replaces})


def test_a_failing_set_config_is_a_clear_store_error():
    with pytest.raises(StateStoreError, match=r"rocksdb.config.setter .*set_config\('s', options, configs\) failed: "
                                              "ValueError: no such option"):
        store_options("s", {CONFIG_SETTER: Breaks})


def test_a_failing_close_is_logged_not_raised(caplog):
    opened = store_options("s", {CONFIG_SETTER: CloseBreaks})
    with caplog.at_level(logging.ERROR, logger="pystreams.state"):
        opened.close()
    assert "rocksdb.config.setter: close('s', options)" in caplog.text and "close broke" in caplog.text
