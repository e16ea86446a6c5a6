"""KTableRepartitionMap (table group_by): subtract/add Changes keyed by the new key."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import KTableHandle, KTableRepartitionMap, KTableSource
from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from tests.unit.stateful.harness import FakeContext, chg, started

pytestmark = pytest.mark.unit


def by_first_letter(key: str, value: str) -> tuple[str, str]:
    return value[0], value


def make(configs: dict[str, str] | None = None) -> tuple[FakeContext, object]:
    parent = KTableHandle(KTableSource("S"), "src")
    parent.enable_sending_old_values(True)
    ctx = FakeContext(configs=configs)
    return ctx, started(KTableRepartitionMap(parent, by_first_letter), ctx)


def test_insert_update_delete() -> None:
    ctx, p = make()
    p.process(chg("k", "apple", None, 1))
    p.process(chg("k", "banana", "apple", 2))   # key moves: subtract from a, add to b
    p.process(chg("k", "berry", "banana", 3))   # same new key: one Change with both values
    p.process(chg("k", None, "berry", 4))       # delete: subtract only
    assert ctx.take() == [
        ("a", "apple", None, 1),
        ("a", None, "apple", 2), ("b", "banana", None, 2),
        ("b", "berry", "banana", 3),
        ("b", None, "berry", 4),
    ]


def test_upgrade_from_before_3_5_splits_same_key_updates() -> None:
    ctx, p = make({"upgrade.from": "3.4"})
    p.process(chg("k", "berry", "banana", 3))
    assert ctx.take() == [("b", None, "banana", 3), ("b", "berry", None, 3)]


def test_pairs_with_null_key_or_value_are_dropped() -> None:
    parent = KTableHandle(KTableSource("S"), "src")
    ctx = FakeContext()
    p = started(KTableRepartitionMap(parent, lambda k, v: (None, v) if v == "x" else (v, None if v == "y" else v)), ctx)
    p.process(chg("k", "x", None))
    p.process(chg("k", "y", "x"))
    p.process(chg("k", "z", "y"))
    assert ctx.take() == [("z", "z", None, 0)]


def test_selector_returning_none_is_dropped_and_non_pairs_are_refused() -> None:
    parent = KTableHandle(KTableSource("S"), "src")
    ctx = FakeContext()
    started(KTableRepartitionMap(parent, lambda k, v: None), ctx).process(chg("k", 1, None))
    assert ctx.take() == []
    bad = started(KTableRepartitionMap(parent, lambda k, v: 7), ctx)
    with pytest.raises(StatefulProcessingError, match=r"\(key, value\) pair"):
        bad.process(chg("k", 1, None))


def test_null_key_is_an_error() -> None:
    _, p = make()
    with pytest.raises(StatefulProcessingError, match="should not be null"):
        p.process(chg(None, "apple", None))


def test_it_never_agrees_to_be_asked_for_old_values() -> None:
    m = KTableRepartitionMap(KTableHandle(KTableSource("S"), "src"), by_first_letter)
    with pytest.raises(StatefulProcessingError):
        m.enable_sending_old_values(True)
