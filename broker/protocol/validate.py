"""Find keys a body has that its schema lacks at that version. Encoders ignore such keys (as Kafka
ignores fields a version does not carry), so a misspelled or wrong-version field would be dropped
silently; handler tests call `unknown_fields` to catch that."""
from __future__ import annotations

from typing import Any

from .registry import api_for
from .schema import F, in_range


def unknown_fields(api_key: int, version: int, body: dict[str, Any], *, response: bool = True) -> list[str]:
    """Dotted paths (e.g. "topics[0].partitionz") of keys not in the (api, version) schema."""
    api = api_for(api_key, version)
    return _walk(api.response if response else api.request, version, body, "")


def _walk(fields: tuple[F, ...], version: int, body: dict[str, Any], prefix: str) -> list[str]:
    known = {f.name: f for f in fields if in_range(version, f.versions)}
    out: list[str] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        f = known.get(key)
        if f is None:
            out.append(path)
        elif f.fields is not None and value is not None:
            if f.is_array:
                for i, item in enumerate(value):
                    out += _walk(f.fields, version, item, f"{path}[{i}].")
            else:
                out += _walk(f.fields, version, value, f"{path}.")
    return out
