"""``resolve_serde``: turn a config value (``default.key.serde`` ...) into a Serde, accepting what
Kafka users write (``org.apache.kafka.common.serialization.Serdes$StringSerde``) and Python forms."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pystreams.errors import ConfigError
from pystreams.serdes import primitives as p
from pystreams.serdes.base import Serde

_JAVA_PACKAGE = "org.apache.kafka.common.serialization."
_JAVA_KSTREAM_PACKAGE = "org.apache.kafka.streams.kstream."

# Short names (case-insensitive, '-' and '_' ignored) and Kafka class names -> serde class.
_BUILTINS: dict[str, type[Serde[Any]]] = {
    "string": p.StringSerde, "str": p.StringSerde,
    "bytes": p.BytesSerde,
    "bytearray": p.ByteArraySerde,
    "bytebuffer": p.ByteBufferSerde,
    "short": p.ShortSerde,
    "integer": p.IntegerSerde, "int": p.IntegerSerde,
    "long": p.LongSerde,
    "float": p.FloatSerde,
    "double": p.DoubleSerde,
    "boolean": p.BooleanSerde, "bool": p.BooleanSerde,
    "uuid": p.UUIDSerde,
    "void": p.VoidSerde,
}
_LAZY: dict[str, str] = {
    "json": "pystreams.serdes.json:JsonSerde",
    "list": "pystreams.serdes.list_serde:ListSerde",
    # Kafka's WindowedSerdes$TimeWindowedSerde / $SessionWindowedSerde: the inner serde and the window size come
    # from the config on configure() (windowed.inner.serializer.class ..., window.size.ms), as in Kafka
    "timewindowed": "pystreams.serdes.windowed:TimeWindowedSerde",
    "sessionwindowed": "pystreams.serdes.windowed:SessionWindowedSerde",
}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


def _builtin(name: str) -> type[Serde[Any]] | None:
    """Kafka names: Serdes$StringSerde, Serdes.StringSerde, StringSerde, Serdes.String(), string; and
    org.apache.kafka.streams.kstream.WindowedSerdes$TimeWindowedSerde (or $SessionWindowedSerde)."""
    short = name.strip()
    for package in (_JAVA_PACKAGE, _JAVA_KSTREAM_PACKAGE):
        short = short.removeprefix(package)
    for prefix in ("Serdes$", "Serdes.", "WindowedSerdes$", "WindowedSerdes."):
        short = short.removeprefix(prefix)
    short = short.removesuffix("()")
    key = _normalise(short)
    if key.endswith("serde") and key != "serde":
        key = key[: -len("serde")]
    if key in _BUILTINS:
        return _BUILTINS[key]
    if key in _LAZY:
        return _import(_LAZY[key], name)  # type: ignore[no-any-return]
    return None


def _import(path: str, original: str) -> Any:
    """``package.module:Name`` or ``package.module.Name``."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"serde {original!r} is not a known serde name and not an importable "
                          f"'package.module:Class' path; use e.g. 'string', 'long', "
                          f"'org.apache.kafka.common.serialization.Serdes$StringSerde'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"serde {original!r}: cannot import module {module_name!r} ({exc})") \
            from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ConfigError(f"serde {original!r}: module {module_name!r} has no {attr!r}") \
                from exc
    return obj


def resolve_serde(value: Any, configs: Mapping[str, Any] | None = None,
                  is_key: bool = False) -> Serde[Any]:
    """A Serde from a Serde instance, a Serde class, a Record class, or a config string.

    With ``configs`` the serde is ``configure``d (Kafka does this for ``default.*.serde``)."""
    serde = _resolve(value)
    if configs is not None:
        serde.configure(configs, is_key)
    return serde


def _resolve(value: Any) -> Serde[Any]:
    if value is None:
        raise ConfigError("no serde given: set one on the operation (Consumed/Produced/Grouped/"
                          "Materialized) or configure default.key.serde / default.value.serde")
    if isinstance(value, Serde):
        return value
    if isinstance(value, str):
        found = _builtin(value)
        if found is None:
            if value.strip().startswith("org.apache.kafka."):
                raise ConfigError(f"Java serde {value!r} has no pystreams equivalent; known: "
                                  + ", ".join(sorted(k for k in _BUILTINS if len(k) > 4))
                                  + ", WindowedSerdes$TimeWindowedSerde, WindowedSerdes$SessionWindowedSerde")
            found = _import(value, value)
        return _resolve(found)
    if isinstance(value, type):
        if issubclass(value, Serde):
            try:
                return value()
            except TypeError as exc:
                raise ConfigError(f"serde class {value.__name__} needs constructor arguments; "
                                  f"pass an instance instead ({exc})") from exc
        if getattr(value, "_pystreams_record_", False) or hasattr(value, "__struct_fields__"):
            from pystreams.serdes.factory import serde_for_type

            return serde_for_type(value)
    if hasattr(value, "serialize") and hasattr(value, "deserialize"):
        from pystreams.serdes.base import WrapperSerde

        return WrapperSerde(value, value)
    raise ConfigError(f"{value!r} is not a serde: pass a Serde, a Serde class, a Record class or a "
                      f"name such as 'string' or 'org.apache.kafka.common.serialization."
                      f"Serdes$LongSerde'")
