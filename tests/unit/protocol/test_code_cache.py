"""The codec's code objects cached on disk (code_cache.py): a second build of the same (api, version, direction)
loads the code instead of compiling, gives the same function, and a stale, corrupt or unwritable cache only costs
the compile."""
from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest
from pystreams.broker.protocol import code_cache
from pystreams.broker.protocol.compiler import compile_decoder, compile_encoder
from pystreams.broker.protocol.messages.join_group import API as JOIN_GROUP

pytestmark = pytest.mark.unit


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A private cache dir, bytecode writing on, and a count of the compile() calls the cache makes."""
    monkeypatch.setattr(code_cache, "_dir", str(tmp_path / "kafka-codec"))
    monkeypatch.setattr(code_cache.sys, "dont_write_bytecode", False)
    calls = {"compile": 0, "dir": tmp_path / "kafka-codec"}
    real = builtins.compile

    def counting(*args: Any, **kw: Any) -> Any:
        calls["compile"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(code_cache, "compile", counting, raising=False)
    return calls


BODY = {"group_id": "g", "session_timeout_ms": 45000, "rebalance_timeout_ms": 300000, "member_id": "",
        "group_instance_id": None, "protocol_type": "consumer",
        "protocols": [{"name": "range", "metadata": b"\x00\x01meta"}], "reason": "why"}


def _roundtrip(version: int) -> tuple[dict[str, Any], str, str]:
    flexible = JOIN_GROUP.is_flexible(version)
    encode = compile_encoder(JOIN_GROUP.request, version, flexible)
    decode = compile_decoder(JOIN_GROUP.request, version, flexible)
    parts: list[Any] = [bytearray()]
    encode(BODY, parts)
    data = memoryview(b"".join(parts))
    return decode(data, 0, len(data))[0], encode.__source__, decode.__source__  # type: ignore[attr-defined]


def test_a_second_build_loads_the_code_and_behaves_the_same(cache: dict[str, Any]) -> None:
    first = _roundtrip(9)
    assert cache["compile"] == 2 and len(os.listdir(cache["dir"])) == 2
    second = _roundtrip(9)
    assert cache["compile"] == 2  # both from the cache
    assert first == second and first[0]["reason"] == "why" and first[0]["protocols"][0]["metadata"] == b"\x00\x01meta"
    _roundtrip(5)  # another version: other source, other entries
    assert cache["compile"] == 4 and len(os.listdir(cache["dir"])) == 4


def test_a_corrupt_entry_is_compiled_again(cache: dict[str, Any]) -> None:
    expected = _roundtrip(9)
    for name in os.listdir(cache["dir"]):
        (cache["dir"] / name).write_bytes(b"\x00not marshal")
    assert _roundtrip(9) == expected and cache["compile"] == 4


def test_nothing_is_written_when_python_writes_no_bytecode(cache: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code_cache.sys, "dont_write_bytecode", True)
    _roundtrip(9)
    assert not cache["dir"].exists()


def test_an_unwritable_cache_only_costs_the_compile(cache: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    cache["dir"].parent.joinpath("kafka-codec").write_text("a file where the folder should be")
    assert _roundtrip(9)[0]["group_id"] == "g"
    assert _roundtrip(9)[0]["group_id"] == "g" and cache["compile"] == 4


def test_the_default_location_is_beside_the_packages_bytecode() -> None:
    from importlib.util import cache_from_source

    assert code_cache.cache_dir() == os.path.join(os.path.dirname(cache_from_source(code_cache.__file__)),
                                                  "kafka-codec")
