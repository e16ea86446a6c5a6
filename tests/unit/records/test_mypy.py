"""Beyond Faust (faust-streaming issue #233): mypy type-checks Record constructors, through
PEP 681 dataclass_transform. Runs the real mypy on a snippet; every line marked ``# E`` must be an
error and no other line may be."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

pytestmark = pytest.mark.unit

SNIPPET = '''
from datetime import datetime
from decimal import Decimal
from typing import Optional

from pystreams.records import DecimalField, Record, StringField
from pystreams.serdes import Serde, Serdes


class Item(Record, serializer="json"):
    name: str
    qty: int = 1


class Order(Record, serializer="json", include_metadata=False, isodates=True):
    id: str
    amount: Decimal = DecimalField(max_decimal_places=2)
    placed_at: datetime
    items: list[Item] = []
    note: str = StringField(max_length=3, default="")
    ref: Optional[str] = None


class Point(Record, frozen=True):
    x: int
    y: int


now = datetime.now()
ok1 = Order("o1", Decimal("1"), now, [Item("a"), Item("b", 2)])
ok2 = Order(id="o1", amount=Decimal("1"), placed_at=now, note="n", ref=None)
amount: Decimal = ok1.amount
items: list[Item] = ok2.items
serde: Serde[Order] = Serdes.from_record(Order)
value: Optional[Order] = serde.deserialize("t", b"{}")
loaded: Order = Order.loads(b"{}")
copy: Order = ok1.derive(id="o2")
count: Optional[int] = Serdes.Long().deserialize("t", b"")
long_serde: Serde[int] = Serdes.Long()
text_serde: Serde[str] = Serdes.serde_from(str)

bad1 = Order("o1", "1.0", now)  # E
bad2 = Order(id=1, amount=Decimal("1"), placed_at=now)  # E
bad3 = Order("o1")  # E
bad4 = Order("o1", Decimal(1), now, [Item(3)])  # E
bad5 = Order("o1", Decimal(1), now, colour="red")  # E
wrong: str = ok1.amount  # E
Point(1, 2).x = 3  # E
not_text: Serde[str] = Serdes.Long()  # E
'''


def test_mypy_checks_record_constructors(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    stdout, stderr, _status = mypy_api.run([
        "--no-error-summary", "--follow-imports=silent", "--show-error-codes",
        "--cache-dir", str(tmp_path / ".mypy_cache"), "--python-version", "3.11", str(source)])
    errors = {int(m.group(1)): m.group(0) for m in
              re.finditer(r"^snippet\.py:(\d+): error: .*$", stdout.replace(str(source), "snippet.py"),
                           re.MULTILINE)}
    expected = {n for n, line in enumerate(SNIPPET.splitlines(), start=1) if line.endswith("# E")}
    assert not stderr, stderr
    assert set(errors) == expected, stdout
    by_line = dict(enumerate(SNIPPET.splitlines(), start=1))
    assert "Decimal" in errors[next(n for n in expected if "bad1" in by_line[n])]
