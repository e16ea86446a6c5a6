"""The foreign-key join's wire formats and hash equal Kafka 4.1.1's: expected values printed by
kafka_generators/FkJoinBytes.java run against the kafka-streams-4.1.1 jar."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.fkjoin import (CombinedKeySchema, Instruction, SubscriptionResponseWrapper,
                                                  SubscriptionResponseWrapperSerde, SubscriptionWrapper,
                                                  SubscriptionWrapperSerde, hash128)
from pystreams.compiler.processors.fkjoin.wrappers import increment
from pystreams.errors import SerdeError
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit

# n -> Murmur3.hash128(bytes((i * 37 + 200) & 0xFF for i in range(n))) in Java
JAVA_HASHES = {
    0: (-7122613646888064702, -8341524471658347240),
    1: (-4615602001469447222, -5947292478380757321),
    2: (-4840164348574688540, -48936480252080186),
    3: (-5752049128668885833, 2746394662856386121),
    4: (-8905296513060822786, -3630574702310843461),
    5: (8124148783958457726, 431500103146583994),
    6: (-3423682053847738778, -3932774789735067409),
    7: (-2107356240070746995, 8712494903821390563),
    8: (6014274030055629952, 3156945422024201036),
    9: (-5216073135972215217, 8252163989001585864),
    10: (-2434993502341840010, 5569338852302162089),
    11: (5585107071620569472, -7927143970876138605),
    12: (8632165209690090468, -7515400206911483813),
    13: (2255860406633852627, 1413621377484775261),
    14: (7000603201186914694, -999504437505812591),
    15: (-8844713386880038744, 1384717867784962967),
    16: (4259464231871220401, 71836089553343856),
    17: (1468295286396577991, 2369895096289180639),
    18: (-5331459926091389166, 4662476085691187314),
    19: (-7662928646637103761, -244961298398647739),
    20: (-3319791852811202136, -8278018634410483468),
    21: (3664710010120624968, 1104985512679435070),
    22: (8291076399532887858, -3474511844190024416),
    23: (-8132108933042694121, 7983139221191393978),
    24: (5841508830559763943, 6125384748733465200),
    25: (-7240894242969798500, 5680004179084606658),
    26: (4628008407914628612, -1810869661209559809),
    27: (-947841480311719024, -2419438227740007129),
    28: (3580057562706392352, 6856181426181575152),
    29: (7954902342265045103, -2919809140711862535),
    30: (-3915149857173153645, 7420901418372040877),
    31: (1137369972227847586, -2626887154935382824),
    32: (2819191440991962733, 7634896192672878728),
    33: (-4030251065457743037, -2429668008310786738),
    34: (-5901400363943633322, 7741897681391541615),
    35: (-9092219436146496620, -5180217504328860360),
    36: (4672672419063416096, 8480083089682323813),
    37: (5750077236338646967, -7857652496565779481),
    38: (6061114899923291669, 6471457911743860773),
    39: (-3491420679589489428, 6947327821785672316),
}


def _data(n: int) -> bytes:
    return bytes((i * 37 + 200) & 0xFF for i in range(n))


def test_murmur3_hash128_equals_kafka_for_every_tail_length() -> None:
    for n, expected in JAVA_HASHES.items():
        assert hash128(_data(n)) == expected, n


def test_subscription_wrapper_bytes_equal_kafka() -> None:
    serde = SubscriptionWrapperSerde(Serdes.String())
    h = hash128(b"\x01\x02\x03")
    with_hash = SubscriptionWrapper(h, Instruction.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE, "pk1", 3)
    no_hash = SubscriptionWrapper(None, Instruction.DELETE_KEY_AND_PROPAGATE, "k", 0)
    assert serde.serialize("t", with_hash) == bytes.fromhex("0103f477abe243eb796273d102684a21d683706b3100000003")
    assert serde.serialize("t", no_hash) == bytes.fromhex("81016b00000000")
    for wrapper in (with_hash, no_hash):
        assert serde.deserialize("t", serde.serialize("t", wrapper)) == wrapper


def test_subscription_wrapper_version_0_has_no_partition() -> None:
    serde = SubscriptionWrapperSerde(Serdes.String())
    v0 = SubscriptionWrapper(None, Instruction.DELETE_KEY_NO_PROPAGATE, "ab", None, 0)
    data = serde.serialize("t", v0)
    assert data == b"\x80\x00ab"
    assert serde.deserialize("t", data) == v0


def test_response_wrapper_bytes_equal_kafka() -> None:
    serde = SubscriptionResponseWrapperSerde(Serdes.Long())
    h = hash128(b"\x01\x02\x03")
    assert serde.serialize("t", SubscriptionResponseWrapper(h, 42, 1)) == \
        bytes.fromhex("00f477abe243eb796273d102684a21d683000000000000002a")
    assert serde.serialize("t", SubscriptionResponseWrapper(None, None, 1)) == b"\x80"
    back = serde.deserialize("t", bytes.fromhex("00f477abe243eb796273d102684a21d683000000000000002a"))
    assert back == SubscriptionResponseWrapper(h, 42, None, 0)
    assert serde.deserialize("t", b"\x80") == SubscriptionResponseWrapper(None, None, None, 0)


def test_missing_serde_is_a_clear_error_until_defaults_are_set() -> None:
    serde = SubscriptionWrapperSerde()
    wrapper = SubscriptionWrapper(None, Instruction.DELETE_KEY_NO_PROPAGATE, "k", 0)
    with pytest.raises(SerdeError, match="primary key"):
        serde.serialize("t", wrapper)
    serde.set_if_unset(Serdes.String(), Serdes.Long())
    assert serde.serialize("t", wrapper) == b"\x81\x00k\x00\x00\x00\x00"
    response = SubscriptionResponseWrapperSerde()
    response.set_if_unset(Serdes.String(), Serdes.Long())
    assert response.serialize("t", SubscriptionResponseWrapper(None, 1)) == b"\x80" + (1).to_bytes(8, "big")


def test_combined_key_prefix_separates_foreign_keys_that_prefix_each_other() -> None:
    schema = CombinedKeySchema(Serdes.String(), Serdes.String())
    assert schema.to_bytes("f", "a") == b"\x00\x00\x00\x01fa"
    assert schema.from_bytes(schema.to_bytes("f1", "pk")) == ("f1", "pk")
    assert not schema.to_bytes("f1", "a").startswith(schema.prefix_bytes("f"))
    assert schema.to_bytes("f", "1a").startswith(schema.prefix_bytes("f"))


def test_increment_is_kafkas_bytes_increment() -> None:
    assert increment(b"\x00\x01") == b"\x00\x02"
    assert increment(b"\x01\xff") == b"\x02\x00"
    assert increment(b"\xff\xff") is None
