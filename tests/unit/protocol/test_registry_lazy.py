"""The registry imports an API's schema module only when that API is used (start-up, issue 7), and its table of
versions is exactly what the schema modules declare."""
from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap

import pytest
from pystreams.broker.protocol import APIS, SUPPORTED_VERSIONS, messages, registry

pytestmark = pytest.mark.unit


def _schema_modules() -> dict[str, object]:
    """Every module under messages/ that declares an API, by module name."""
    found = {}
    for info in pkgutil.iter_modules(messages.__path__):
        module = importlib.import_module(f"{messages.__name__}.{info.name}")
        if hasattr(module, "API"):
            found[info.name] = module.API
    return found


def test_the_table_names_every_schema_module_with_its_own_key_and_versions() -> None:
    modules = _schema_modules()
    assert len(modules) > 50
    table = {name: (key, lo, hi) for key, (name, lo, hi) in registry._TABLE.items()}
    declared = {name: (api.key, *api.versions) for name, api in modules.items()}  # type: ignore[attr-defined]
    assert table == declared
    assert SUPPORTED_VERSIONS == {key: (lo, hi) for key, (lo, hi) in sorted(SUPPORTED_VERSIONS.items())}
    for key in SUPPORTED_VERSIONS:
        assert APIS[key] is modules[registry._TABLE[key][0]]
        assert key in APIS
    assert list(APIS) == sorted(SUPPORTED_VERSIONS) and len(APIS) == len(SUPPORTED_VERSIONS)
    assert 4 not in APIS and APIS.get(4) is None  # LeaderAndIsr: not implemented
    with pytest.raises(KeyError):
        APIS[4]


def test_a_schema_module_that_disagrees_with_its_row_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._TABLE, 12, ("heartbeat", 0, 99))
    with pytest.raises(RuntimeError, match="messages.heartbeat declares key 12 versions"):
        registry._load(12)


def test_using_one_api_imports_only_its_schema_module() -> None:
    script = textwrap.dedent("""
        import json, sys
        from pystreams.broker.protocol import RequestHeader, decode_request, encode_request, ApiKey
        from pystreams.broker.protocol import SUPPORTED_VERSIONS, api_versions_keys
        def loaded():
            return sorted(m.rsplit(".", 1)[1] for m in sys.modules if ".protocol.messages." in m)
        at_import = loaded()
        keys = api_versions_keys()
        frame = encode_request(RequestHeader(ApiKey.METADATA, 12, 7, "c"), {"topics": None})
        after = loaded()
        print(json.dumps({"at_import": at_import, "after": after, "keys": len(keys)}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["at_import"] == ["consumer_protocol"]  # the embedded consumer protocol schema, not an API
    assert out["after"] == ["consumer_protocol", "metadata"]
    assert out["keys"] == len(SUPPORTED_VERSIONS)
