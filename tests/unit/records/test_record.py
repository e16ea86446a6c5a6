"""Record models: construction, defaults, Faust's class options, dumps/loads, namespaces."""
from __future__ import annotations

import datetime as dt
import pickle
import uuid
from decimal import Decimal

import orjson
import pytest

from pystreams.errors import SerdeError
from pystreams.serdes import Record, Serdes
from pystreams.serdes.records import FieldDescriptor, FrozenRecordError, registry

from .models import Circle, Color, Drawing, Everything, Item, Node, Order, Square

pytestmark = pytest.mark.unit

WHEN = dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)


def test_positional_and_keyword_construction() -> None:
    a = Order("o1", Decimal("9.99"), WHEN)
    b = Order(id="o1", amount=Decimal("9.99"), placed_at=WHEN)
    assert a == b and a != Order("o2", Decimal("9.99"), WHEN)
    assert a.id == "o1" and a.items == [] and a.ref is None
    with pytest.raises(TypeError, match="got unexpected argument: colour"):
        Order("o1", Decimal(1), WHEN, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="placed_at"):
        Order("o1", Decimal(1))  # type: ignore[call-arg]


def test_mutable_defaults_are_copied_per_instance() -> None:
    a, b = Order("a", Decimal(1), WHEN), Order("b", Decimal(1), WHEN)
    a.items.append(Item("x"))
    assert b.items == [] and Order("c", Decimal(1), WHEN).items == []


def test_class_attributes_are_field_descriptors() -> None:
    assert isinstance(Order.amount, FieldDescriptor)
    assert Order.amount.field == "amount" and Order.amount.model is Order
    assert Order.amount.required and not Order.items.required
    assert repr(Order.items) == "<FieldDescriptor: Order.items: list = []>"
    assert list(Order._options.fields) == ["id", "amount", "placed_at", "items", "ref"]
    assert Order._options.optionalset == {"items", "ref"}


def test_none_for_a_defaulted_field_means_default_like_faust() -> None:
    assert Item("x", None).qty == 1  # type: ignore[arg-type]


def test_dumps_matches_faust_json_shape() -> None:
    order = Order("o1", Decimal("9.99"), WHEN, [Item("pen", 2)],
                  uuid.UUID("12345678-1234-5678-1234-567812345678"))
    data = orjson.loads(order.dumps())
    assert data == {
        "id": "o1", "amount": "9.99", "placed_at": "2024-01-02T03:04:05.678000Z",
        "items": [{"name": "pen", "qty": 2, "__faust": {"ns": "tests.unit.records.models.Item"}}],
        "ref": "12345678-1234-5678-1234-567812345678",
        "__faust": {"ns": "tests.unit.records.models.Order"},
    }
    assert Order.loads(order.dumps()) == order


def test_from_data_restores_declared_types() -> None:
    loaded = Order.from_data({"id": "o", "amount": "1.10", "placed_at": "2024-01-02T03:04:05Z",
                              "items": [{"name": "a"}], "ref": str(uuid.UUID(int=5))})
    assert loaded.amount == Decimal("1.10") and isinstance(loaded.amount, Decimal)
    assert loaded.placed_at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert loaded.items == [Item("a", 1)] and isinstance(loaded.items[0], Item)
    assert loaded.ref == uuid.UUID(int=5)


def test_every_supported_type_round_trips() -> None:
    value = Everything(
        text="t", number=3, ratio=0.5, flag=True, money=Decimal("-12.3400"), when=WHEN,
        day=dt.date(2020, 2, 29), ident=uuid.UUID(int=1), color=Color.BLUE, blob=b"hi",
        maybe=None, tags={"a", "b"}, pair=(1, "x"), by_name={"k": Item("i", 4)},
        nested=Item("n"), numbers=[Decimal("1.5"), Decimal("0.1")],
        items_by_id={uuid.UUID(int=2): [Item("z")]})
    again = Everything.loads(value.dumps())
    assert again == value
    assert type(again.tags) is set and type(again.pair) is tuple and again.color is Color.BLUE
    # msgpack as the class serializer round-trips too
    class Packed(Everything, serializer="msgpack"):
        pass
    packed = Packed(**value._field_values())
    assert Packed.loads(packed.dumps()) == packed


def test_unknown_keys_in_data_are_ignored() -> None:
    # Faust kept unknown keys as attributes; nothing ever wrote them back out, so we drop them
    # (the msgspec fast path cannot keep them, and both paths must agree).
    item = Item.from_data({"name": "a", "qty": 2, "extra": 1})
    assert not hasattr(item, "extra") and item.__dict__ == {"name": "a", "qty": 2}
    assert Item.loads(b'{"name": "a", "qty": 2, "extra": 1}').__dict__ == item.__dict__


def test_include_metadata_false_and_namespace_option() -> None:
    class Plain(Record, include_metadata=False, namespace="acme.Plain"):
        x: int

    assert Plain(1).dumps() == b'{"x":1}'
    assert registry["acme.Plain"] is Plain and Plain._options.namespace == "acme.Plain"


def test_polymorphic_fields_pick_the_class_the_namespace_names() -> None:
    drawing = Drawing([Circle(1.0), Square(2.0)], main=Square(3.0))
    again = Drawing.loads(drawing.dumps())
    assert [type(s) for s in again.shapes] == [Circle, Square]
    assert again == drawing and isinstance(again.main, Square)
    with pytest.raises(TypeError, match="abstract"):
        from .models import Shape
        Shape()


def test_abstract_record_loads_by_namespace() -> None:
    payload = Circle(2.5).dumps()
    loaded = Record.loads(payload)
    assert loaded == Circle(2.5)
    with pytest.raises(SerdeError, match="no Record class is registered"):
        Record.loads(b'{"__faust": {"ns": "nowhere.Nothing"}}')


def test_blessed_key_ignored_for_concrete_types_unless_allowed() -> None:
    data = {"name": "x", "__faust": {"ns": "tests.unit.records.models.Order"}}
    assert type(Item.from_data(data)) is Item

    class Base(Record, namespace="t.Base"):
        a: int = 0

    class Sub(Base, namespace="t.Sub", allow_blessed_key=True):
        b: int = 0

    assert type(Base.from_data({"a": 1, "b": 2, "__faust": {"ns": "t.Sub"}})) is Sub


def test_self_referencing_record() -> None:
    tree = Node(1, [Node(2), Node(3, [Node(4)])])
    assert Node.loads(tree.dumps()) == tree
    assert isinstance(Node.loads(tree.dumps()).children[1].children[0], Node)


def test_forward_reference_to_a_later_class_and_lazy_creation() -> None:
    class Parent(Record, lazy_creation=True):
        child: Child

    class Child(Record):
        x: int

    Parent.make_final()
    assert Parent.from_data({"child": {"x": 1}}).child == Child(1)


def test_inheritance_adds_fields_and_keeps_options() -> None:
    class Base(Record, serializer="json", include_metadata=False):
        a: int

    class Sub(Base):
        b: str = "s"

    sub = Sub(1)
    assert sub.asdict() == {"a": 1, "b": "s"} and Sub._options.include_metadata is False
    assert Sub.loads(sub.dumps()) == sub


def test_non_default_after_default_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Non-default Bad field b cannot follow default field a"):
        class Bad(Record):
            a: int = 1
            b: int


def test_input_output_names_and_exclude() -> None:
    class Renamed(Record, include_metadata=False):
        user_id: str = FieldDescriptor(input_name="userId", output_name="userId")
        secret: str = FieldDescriptor(exclude=True, default="")

    r = Renamed.from_data({"userId": "u1", "secret": "s"})
    assert r.user_id == "u1" and r.secret == "s"
    assert r.dumps() == b'{"userId":"u1"}'


def test_coerce_option_converts_on_construction() -> None:
    class Coerced(Record, coerce=True):
        n: int
        when: dt.datetime
        items: list[Item] = []

    c = Coerced("5", "2024-01-02T03:04:05", [{"name": "x"}])  # type: ignore[arg-type,list-item]
    assert c.n == 5 and c.when == dt.datetime(2024, 1, 2, 3, 4, 5) and c.items == [Item("x")]


def test_user_coercions_and_date_parser() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Money) and other.cents == self.cents

    def parse_day(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%d/%m/%Y")

    class Custom(Record, coercions={Money: lambda v: Money(int(v))}, date_parser=parse_day):
        price: Money
        when: dt.datetime

    c = Custom.from_data({"price": 250, "when": "31/12/2023"})
    assert c.price == Money(250) and c.when == dt.datetime(2023, 12, 31)


def test_frozen_records_refuse_assignment() -> None:
    class Point(Record, frozen=True):
        x: int
        y: int

    p = Point(1, 2)
    with pytest.raises(FrozenRecordError):
        p.x = 3  # type: ignore[misc]
    assert {p, Point(1, 2)} == {p}


def test_derive_repr_ordering_pickle() -> None:
    item = Item("a", 1)
    assert item.derive(qty=5) == Item("a", 5)
    assert repr(item) == "<Item: name='a', qty=1>"
    assert Item("a", 1) < Item("b", 0) and Item("a", 2) > Item("a", 1)
    assert pickle.loads(pickle.dumps(item)) == item


def test_bad_data_gives_serde_errors() -> None:
    with pytest.raises(SerdeError, match="cannot decode Order"):
        Order.loads(b"{not json")
    with pytest.raises(SerdeError, match="cannot load Order"):
        Order.loads(b'{"id": "x"}')
    with pytest.raises(SerdeError, match="declared type"):
        Order.loads(b'{"id": "x", "amount": "abc", "placed_at": "2024-01-01"}')
    with pytest.raises(SerdeError, match="needs a mapping"):
        Order.from_data([1, 2])  # type: ignore[arg-type]
    with pytest.raises(SerdeError, match="pickle"):
        Item("a").dumps(serializer="pickle")


def test_codec_chains() -> None:
    class B64(Record, serializer="json|binary", include_metadata=False):
        x: int

    assert B64(7).dumps() == b"eyJ4Ijo3fQ=="
    assert B64.loads(b"eyJ4Ijo3fQ==") == B64(7)


def test_from_record_serde() -> None:
    serde = Serdes.from_record(Order)
    order = Order("o1", Decimal("2"), WHEN, [Item("a")])
    assert serde.serialize("t", order) == order.dumps()
    assert serde.deserialize("t", order.dumps()) == order
    assert serde.serialize("t", None) is None and serde.deserialize("t", None) is None
    with pytest.raises(SerdeError, match="topic 'orders'"):
        serde.deserialize("orders", b"[1]")
    with pytest.raises(SerdeError, match="takes Order records"):
        serde.serialize("t", {"id": "x"})  # type: ignore[arg-type]
    with pytest.raises(SerdeError, match="needs a Record subclass"):
        Serdes.from_record(dict)


def test_post_init_and_inner_options_class() -> None:
    class WithPost(Record):
        a: int
        b: int = 0

        class Options:
            include_metadata = False
            serializer = "json"

        def __post_init__(self) -> None:
            self.total = self.a + self.b

    w = WithPost(2, 3)
    assert w.total == 5
    assert WithPost.loads(w.dumps()).total == 5
    assert w.dumps() == b'{"a":2,"b":3}'
    assert not hasattr(WithPost, "Options")


def test_sets_dicts_and_optionals_of_records_load() -> None:
    class Bag(Record):
        unique: set[Item]
        by_key: dict[str, Item]
        maybe: Item | None = None
        nested: list[dict[str, list[Item]]] = []

    bag = Bag({Item("a"), Item("b", 2)}, {"k": Item("c")}, None, [{"x": [Item("d")]}])
    again = Bag.loads(bag.dumps())
    assert again == bag
    assert all(type(i) is Item for i in again.unique)
    assert type(again.nested[0]["x"][0]) is Item and again.maybe is None


def test_user_defined_init_is_kept_and_loading_still_works() -> None:
    class Custom(Record, include_metadata=False):
        a: int
        b: int = 0

        def __init__(self, *args: object, **kwargs: object) -> None:
            super_init = type(self)._model_init  # type: ignore[attr-defined]
            super_init(self, *args, **kwargs)
            self.seen = True

    c = Custom.loads(b'{"a": 1}')
    assert c.seen and c.a == 1 and c.b == 0


# Examples from Faust's user guide (docs/userguide/models.rst), ported by changing the import.

def test_guide_polymorphic_assets_with_class_attribute_defaults() -> None:
    class Asset(Record, namespace="guide.Asset"):
        url: str
        type: str

    class ImageAsset(Asset, namespace="guide.ImageAsset"):
        type = "image"

    class VideoAsset(Asset, namespace="guide.VideoAsset"):
        runtime_seconds: float
        type = "video"

    class Article(Record, polymorphic_fields=True, namespace="guide.Article"):
        assets: list[Asset]

    article = Article([ImageAsset("a.png"), VideoAsset("b.mp4", runtime_seconds=3.5)])
    assert ImageAsset("x").type == "image" and VideoAsset("y", 1.0).type == "video"
    again = Article.loads(article.dumps())
    assert [type(a) for a in again.assets] == [ImageAsset, VideoAsset]
    assert again.assets[1].runtime_seconds == 3.5  # type: ignore[attr-defined]

    class Plain(Record, namespace="guide.Plain"):  # without polymorphic_fields: declared type
        assets: list[Asset]

    assert [type(a) for a in Plain.loads(Plain(article.assets).dumps()).assets] == [Asset, Asset]


def test_guide_reserved_keyword_field_and_per_field_coercion() -> None:
    from pystreams.serdes.records import DatetimeField, StringField

    class OpenAPIParameter(Record, include_metadata=False):
        location: str = StringField(default="query", input_name="in")

    assert OpenAPIParameter().location == "query"
    assert OpenAPIParameter.loads(b'{"in": "path"}').location == "path"
    assert OpenAPIParameter("header").dumps() == b'{"in":"header"}'

    class Account(Record):
        user_id: str = StringField(coerce=True)
        login_dates: list[dt.datetime] = DatetimeField(coerce=True)

    account = Account(42, ["2024-01-01T00:00:00"])  # type: ignore[arg-type,list-item]
    assert account.user_id == "42" and account.login_dates == [dt.datetime(2024, 1, 1)]


def test_guide_custom_field_type() -> None:
    from collections.abc import Iterable
    from typing import Any

    from pystreams.serdes.records import ValidationError
    from pystreams.serdes.records.fields import FieldDescriptor as Descriptor

    class ChoiceField(Descriptor[str]):
        def __init__(self, choices: list[str], **kwargs: Any) -> None:
            self.choices = choices
            super().__init__(choices=choices, **kwargs)

        def validate(self, value: str) -> Iterable[ValidationError]:
            if value not in self.choices:
                yield self.validation_error(
                    f"{self.field} must be one of {', '.join(self.choices)}")

    class Order(Record, validation=True):
        side: str = ChoiceField(["SELL", "BUY"])  # type: ignore[assignment]

    assert Order("BUY").side == "BUY"
    with pytest.raises(ValidationError, match="side must be one of SELL, BUY"):
        Order(side="LEFT")


def test_registered_codec_by_name() -> None:
    import zlib

    from pystreams.serdes.records import codecs

    codecs.register("zlib", zlib.compress, zlib.decompress)

    class Packed(Record, serializer="json|zlib", include_metadata=False):
        text: str

    packed = Packed("a" * 100)
    assert zlib.decompress(packed.dumps()) == b'{"text":"' + b"a" * 100 + b'"}'
    assert Packed.loads(packed.dumps()) == packed
    with pytest.raises(SerdeError, match="must be non-empty"):
        codecs.register("a|b", zlib.compress, zlib.decompress)
