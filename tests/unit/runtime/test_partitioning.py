"""murmur2 equals Kafka's Utils.murmur2 (the vectors of Kafka's UtilsTest) and places keys like Java."""
from __future__ import annotations

import pytest

from pystreams.runtime.partitioning import default_partition, murmur2

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("data, expected", [
    (b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829), (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107)])
def test_murmur2_matches_kafka(data, expected):
    assert murmur2(data) == expected


def test_partition_is_positive_murmur2_modulo():
    assert default_partition(b"21", 7) == (-973932308 & 0x7FFFFFFF) % 7
    assert {default_partition(str(i).encode(), 3) for i in range(100)} == {0, 1, 2}
