"""The rocksdict Options a RocksDB store opens with, and Kafka Streams' `rocksdb.config.setter` applied to them.

Kafka's StreamsConfig key takes a RocksDBConfigSetter class: every RocksDB store makes its own instance, calls
setConfig(storeName, options, configs) after its own defaults and before opening the DB, and close(storeName,
options) when the store closes. pystreams takes, in the config or as `package.module:Class` /
`package.module.Class` text (`pystreams run --set rocksdb.config.setter=app.tuning:BigBuffers`):

- a class (subclass RocksDBConfigSetter or just have the methods): one instance per store, as Kafka;
- an object with set_config (and optionally close): shared by every store;
- a plain function `(store_name, options, configs)`: the set_config of a setter without close.

set_config changes the rocksdict.Options it is given in place (e.g. options.set_write_buffer_size(...),
options.set_max_open_files(...)). pystreams stores keep bytes in raw mode (rocksdict's raw_mode=True), which only
the Options built here have: a set_config that returns an Options (to replace them) is refused with a ConfigError,
as is a value that is not one of the shapes above. A close() that raises is logged, not raised: the store is
closed by then.
"""
from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from rocksdict import Options

from pystreams.errors import ConfigError, StateStoreError
from pystreams.state.internals.rocksdb_statistics import enable_statistics

log = logging.getLogger("pystreams.state")

CONFIG_SETTER = "rocksdb.config.setter"
_EXPECTED = ("a RocksDBConfigSetter class (set_config(store_name, options, configs), optionally close(store_name, "
             "options)), an object with set_config, a function (store_name, options, configs), or an importable "
             "'package.module:Class' naming one")


class RocksDBConfigSetter:
    """Kafka's RocksDBConfigSetter: subclass it and set `rocksdb.config.setter` to the class to tune RocksDB per
    store (memtable sizes, open files, block cache, ...); one instance per store."""

    def set_config(self, store_name: str, options: Options, configs: dict[str, Any]) -> None:
        """Change `options` in place for the store `store_name`; configs are the application's."""

    def close(self, store_name: str, options: Options) -> None:
        """The store closed: release what set_config made for it (e.g. a shared cache's reference)."""


class _FunctionSetter:
    """A plain function given as the setter: it is set_config; nothing to close."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.set_config = fn


def _import(value: str) -> Any:
    module_name, sep, attr = value.partition(":")
    if not sep:
        module_name, _, attr = value.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"{CONFIG_SETTER}={value!r} is not an importable 'package.module:Class'; expected "
                          f"{_EXPECTED}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(f"{CONFIG_SETTER}={value!r}: cannot import module {module_name!r} ({e}); expected "
                          f"{_EXPECTED}") from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as e:
            raise ConfigError(f"{CONFIG_SETTER}={value!r}: module {module_name!r} has no {attr!r}") from e
    return obj


def config_setter_factory(configs: Mapping[str, Any] | None) -> Callable[[], Any] | None:
    """What makes the setter of one store from the app's configs (None: no setter set), checked now: a clear
    ConfigError naming rocksdb.config.setter for a value that cannot be one (call it to validate a config early)."""
    value = (configs or {}).get(CONFIG_SETTER)
    if value is None or value == "":
        return None
    shown = value
    if isinstance(value, str):
        value = _import(value.strip())
    if inspect.isclass(value):
        if not callable(getattr(value, "set_config", None)):
            raise ConfigError(f"{CONFIG_SETTER}={shown!r}: class {value.__name__} has no set_config(store_name, "
                              f"options, configs); expected {_EXPECTED}")
        cls = value

        def new_instance() -> Any:
            try:
                return cls()
            except TypeError as e:
                raise ConfigError(f"{CONFIG_SETTER}={shown!r}: class {cls.__name__} cannot be made without "
                                  f"arguments ({e}), as Kafka makes one per store") from e
        return new_instance
    if callable(getattr(value, "set_config", None)):
        shared = value
        return lambda: shared
    if callable(value):
        function = _FunctionSetter(value)
        return lambda: function
    raise ConfigError(f"{CONFIG_SETTER}={shown!r} ({type(value).__name__}): expected {_EXPECTED}")


class StoreOptions:
    """The Options one RocksDB store opens with, and its config setter, whose close() the store calls (once)."""

    __slots__ = ("_setter", "options", "store_name")

    def __init__(self, store_name: str, options: Options, setter: Any) -> None:
        self.store_name = store_name
        self.options = options
        self._setter = setter

    def close(self) -> None:
        """Kafka's RocksDBConfigSetter.close(storeName, options) as the store closes; a second call does nothing."""
        setter, self._setter = self._setter, None
        close = getattr(setter, "close", None)
        if not callable(close):
            return
        try:
            close(self.store_name, self.options)
        except Exception:
            log.exception("%s: close(%r, options) of %r failed", CONFIG_SETTER, self.store_name, setter)


def store_options(store_name: str, configs: Mapping[str, Any] | None, *,
                  create_missing_column_families: bool = False,
                  max_file_opening_threads: int | None = None) -> StoreOptions:
    """Options(raw_mode=True) with create_if_missing and the store's own defaults (statistics at
    metrics.recording.level DEBUG/TRACE), then the app's rocksdb.config.setter (set_config(store_name, options,
    configs)), as Kafka's RocksDBStore.openDB orders them."""
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    if create_missing_column_families:
        options.create_missing_column_families(True)
    if max_file_opening_threads is not None:
        options.set_max_file_opening_threads(max_file_opening_threads)
    enable_statistics(options, configs)  # metrics.recording.level DEBUG/TRACE: Kafka's statistics-based metrics
    factory = config_setter_factory(configs)
    if factory is None:
        return StoreOptions(store_name, options, None)
    setter = factory()
    try:
        returned = setter.set_config(store_name, options, dict(configs or {}))
    except ConfigError:
        raise
    except Exception as e:
        raise StateStoreError(f"{CONFIG_SETTER} {setter!r}: set_config({store_name!r}, options, configs) failed: "
                              f"{type(e).__name__}: {e}") from e
    if returned is not None and returned is not options:
        raise ConfigError(f"{CONFIG_SETTER} {setter!r}: set_config({store_name!r}, ...) returned "
                          f"{type(returned).__name__}: it must change the Options it is given in place and return "
                          "None (pystreams stores open in rocksdict raw mode, which only those Options have)")
    return StoreOptions(store_name, options, setter)
