"""Random but well-formed requests (built from the codec's schemas) for every API and version we
advertise: a handler must answer with Kafka error codes, never raise. Seeded, so a failure
reproduces; PYSTREAMS_FUZZ_ROUNDS raises the count for longer runs."""
from __future__ import annotations

import asyncio
import os
import random
import uuid

import pytest

from pystreams.broker.protocol import APIS
from pystreams.broker.protocol.record_batch import build_batch
from pystreams.broker.protocol.schema import in_range
from pystreams.broker.server.handlers import advertised_versions

from tests.unit.server._harness import Node

pytestmark = pytest.mark.unit

ROUNDS = int(os.environ.get("PYSTREAMS_FUZZ_ROUNDS", "6"))
INTS = [-(2**31), -2, -1, 0, 1, 2, 3, 7, 1000, 2**31 - 1]
STRINGS = ["", "t", "g", "m", "range", "consumer", "__consumer_offsets", "bad name!", "x" * 300,
           "retention.ms", "cleanup.policy", "1"]


def _value(rng: random.Random, field, version: int, node: Node):
    if field.nullable is not None and in_range(version, field.nullable) and rng.random() < 0.15:
        return None
    if field.is_array:
        return [_scalar_or_struct(rng, field, version, node) for _ in range(rng.randint(0, 3))]
    return _scalar_or_struct(rng, field, version, node)


def _scalar_or_struct(rng: random.Random, field, version: int, node: Node):
    if field.is_struct:
        return {f.name: _value(rng, f, version, node) for f in field.fields
                if in_range(version, f.versions)}
    kind = field.elem
    if kind in ("int8",):
        return rng.choice([-1, 0, 1, 2, 3, 4, 8, 127])
    if kind in ("int16", "uint16"):
        return rng.choice([-1, 0, 1, 2, 3, 32767])
    if kind in ("int32", "uint32", "int64"):
        value = rng.choice(INTS)
        return abs(value) if kind.startswith("uint") else value
    if kind == "float64":
        return rng.random()
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "string":
        return rng.choice(STRINGS)
    if kind == "bytes":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12)))
    if kind == "uuid":
        known = [t.topic_id for t in node.state.metadata.topics.values()]
        return rng.choice(known + [uuid.UUID(int=0), uuid.uuid4()])
    if kind == "records":
        return rng.choice([build_batch([(b"k", b"v")]), b"", os.urandom(70)])
    raise AssertionError(f"no generator for {kind}")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = Node(tmp_path_factory.mktemp("fuzz"))
    n.state.create_topic("t", 2)
    yield n
    n.close()


@pytest.mark.parametrize("api", sorted(advertised_versions()))
def test_handlers_never_raise(node, api):
    lo, hi = advertised_versions()[api]
    rng = random.Random(api * 1000 + int(os.environ.get("PYSTREAMS_FUZZ_SEED", "0")))

    async def one(version: int) -> None:
        body = {f.name: _value(rng, f, version, node) for f in APIS[api].request
                if in_range(version, f.versions)}
        if api == 1:
            body["max_wait_ms"] = min(abs(body.get("max_wait_ms") or 0), 20)
        try:
            await asyncio.wait_for(node.acall(api, version, body), 0.5)
        except asyncio.TimeoutError:
            pass  # parked (a join waiting for its rebalance): not an error

    async def run() -> None:
        for version in range(lo, hi + 1):
            for _ in range(ROUNDS):
                await one(version)

    asyncio.run(run())
