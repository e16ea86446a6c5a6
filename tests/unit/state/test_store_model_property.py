"""Property: any sequence of writes leaves every backend/layering equal to a plain dict model, ranges included."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.state.helpers import StoreRig

pytestmark = pytest.mark.unit

keys = st.text(alphabet="abcé", min_size=1, max_size=3)
ops = st.lists(st.tuples(st.sampled_from(["put", "delete", "put_if_absent", "flush"]), keys,
                         st.one_of(st.none(), st.text(alphabet="xyz", max_size=2))), max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops, bounds=st.tuples(keys, keys), backend=st.sampled_from(["rocksdb", "in_memory"]),
       cache_bytes=st.sampled_from([0, 150, 10_000]))
def test_store_matches_dict_model(ops: list[tuple[str, str, str | None]], bounds: tuple[str, str], backend: str,
                                  cache_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rig = StoreRig(Path(tmp), backend, caching=cache_bytes > 0, cache_bytes=cache_bytes)
        store, model = rig.store, {}
        for op, key, value in ops:
            if op == "put":
                store.put(key, value)
                if value is None:
                    model.pop(key, None)
                else:
                    model[key] = value
            elif op == "delete":
                assert store.delete(key) == model.pop(key, None)
            elif op == "put_if_absent":
                assert store.put_if_absent(key, value) == model.get(key)
                if key not in model and value is not None:
                    model[key] = value
            else:
                store.flush()
        def order(k: str) -> bytes:
            return k.encode()
        expected = sorted(model.items(), key=lambda kv: order(kv[0]))
        assert list(store.all()) == expected
        assert list(store.reverse_all()) == expected[::-1]
        lo, hi = bounds
        in_range = [kv for kv in expected if order(lo) <= order(kv[0]) <= order(hi)]
        assert list(store.range(lo, hi)) == in_range
        assert list(store.reverse_range(lo, hi)) == in_range[::-1]
        for k in {k for _, k, _ in ops}:
            assert store.get(k) == model.get(k)
        store.close()
