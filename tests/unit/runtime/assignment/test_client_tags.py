"""Rack-aware standby placement over client tags (KIP-708; Kafka's ClientTagAwareStandbyTaskAssignor): the
client.tag.* / rack.aware.assignment.tags config keys as Kafka's StreamsConfig checks them, the tags in every
subscription, and where standbys go (other tag values than the active's and the task's other standbys' while
there are any, then the least loaded clients; balanced only between clients of the same tags)."""
from __future__ import annotations

import logging
from itertools import product

import pytest

from pystreams.errors import ConfigError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    MemberSubscription,
    StreamsPartitionAssignor,
    SubscriptionInfo,
    assignor_for,
)
from pystreams.runtime.assignment.assignor import client_tags, rack_aware_assignment_tags
from pystreams.runtime.assignment.placement import ClientState, place
from pystreams.runtime.assignment.topology_tasks import plan_tasks
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.streams_member import StreamsMember
from tests.unit.runtime.assignment.support import ends, plan
from tests.unit.runtime.group.fakes import FakeClient
from tests.unit.runtime.group.test_streams_member import StreamsFakeClient, make_thread

pytestmark = pytest.mark.unit
BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:1"}


# ------------------------------------------------------------------------------------------------------------ config
def test_client_tags_and_the_rack_aware_keys_are_read_as_kafka_reads_them():
    config = StreamsConfig({**BASE, "client.tag.zone": "eu-1a", "client.tag.cluster": "k8s-1",
                            "rack.aware.assignment.tags": "zone, cluster"})
    assert client_tags(config) == {"zone": "eu-1a", "cluster": "k8s-1"}
    assert rack_aware_assignment_tags(config) == ["zone", "cluster"]
    assert assignor_for(plan(2), config).rack_aware_assignment_tags == ("zone", "cluster")
    assert assignor_for(plan(2), {"client.tag.zone": "a", "rack.aware.assignment.tags": ["zone"]}
                        ).rack_aware_assignment_tags == ("zone",)
    assert assignor_for(plan(2), StreamsConfig(BASE)).rack_aware_assignment_tags == ()


@pytest.mark.parametrize("props, message", [
    ({"rack.aware.assignment.tags": "zone"},
     r"Contains invalid value \[zone\] which doesn't have corresponding tag set via \[client.tag.\] prefix"),
    ({f"client.tag.k{i}": "v" for i in range(6)}, "At most 5 client tags can be specified using client.tag. prefix"),
    ({"client.tag." + "k" * 21: "v"}, "Tag key exceeds maximum length of 20"),
    ({"client.tag.zone": "v" * 31}, "Tag value exceeds maximum length of 30"),
    ({**{f"client.tag.k{i}": "v" for i in range(5)}, "rack.aware.assignment.tags": "k0,k1,k2,k3,k4,k5"},
     "List must have at most 5 elements"),
    ({"client.tag.zone": "a", "rack.aware.assignment.tags": "zone,"}, "has an empty entry"),
])
def test_bad_tag_configs_are_refused_with_kafkas_reason(props, message):
    with pytest.raises(ConfigError, match=message):
        assignor_for(plan(2), StreamsConfig({**BASE, **props}))


def test_the_tag_keys_are_not_reported_as_unknown_or_unimplemented(caplog, monkeypatch):
    from pystreams.runtime import config as config_module

    monkeypatch.setattr(config_module, "_warned_keys", set())
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        StreamsConfig({**BASE, "client.tag.zone": "a", "rack.aware.assignment.tags": "zone"})
    assert [r.getMessage() for r in caplog.records] == []
    assert config_module.key_status("client.tag.zone") == config_module.key_status("rack.aware.assignment.tags") \
        == "supported"


def test_every_subscription_carries_the_client_tags(tmp_path):
    thread = make_thread(tmp_path, "p1")
    thread.config = StreamsConfig({**BASE, "state.dir": str(tmp_path), "client.tag.zone": "eu-1b",
                                   "client.tag.rack": "r7"})
    m = StreamsMember(thread, (StreamsFakeClient({"left": 2, "right": 2}), FakeClient()))
    assert SubscriptionInfo.decode(m.user_data()).client_tags == {"zone": "eu-1b", "rack": "r7"}


# --------------------------------------------------------------------------------------------------------- placement
def _clients(tags: dict[str, dict[str, str]], capacity: int = 1) -> list[ClientState]:
    return [ClientState(pid, capacity, tags=dict(t)) for pid, t in sorted(tags.items())]


def _place(clients: list[ClientState], tasks: int, replicas: int, rack_tags: tuple[str, ...]) -> dict[str, ClientState]:
    p = plan(tasks)
    return place(plan_tasks(p, p.topic_partitions), clients, replicas, 10_000, 2, rack_tags).clients


def _holders(placed: dict[str, ClientState], t: TaskId) -> tuple[ClientState, list[ClientState]]:
    active = next(c for c in placed.values() if t in c.active)
    return active, [c for c in placed.values() if t in c.standby]


def test_one_standby_per_task_lands_in_another_zone():
    placed = _place(_clients({"a": {"zone": "z1"}, "b": {"zone": "z2"}, "c": {"zone": "z3"}}), 6, 1, ("zone",))
    for i in range(6):
        active, standbys = _holders(placed, TaskId(0, i))
        assert len(standbys) == 1 and standbys[0].tags["zone"] != active.tags["zone"]
    assert sorted(len(c.standby) for c in placed.values()) == [2, 2, 2]  # and still balanced


def test_two_clients_in_one_zone_put_their_standbys_in_the_other_zone():
    """Untagged placement is free to keep a standby in its active's zone (a zone outage would take both); with
    the zone as rack-aware tag every standby of a task running in z1 is in z2 and the other way round."""
    tags = {"a": {"zone": "z1"}, "b": {"zone": "z1"}, "c": {"zone": "z2"}, "d": {"zone": "z2"}}
    untagged = _place(_clients(tags), 8, 1, ())
    same_zone = [t for t in range(8)
                 if _holders(untagged, TaskId(0, t))[0].tags == _holders(untagged, TaskId(0, t))[1][0].tags]
    assert same_zone  # the control: without the tags some standby shares its active's zone
    placed = _place(_clients(tags), 8, 1, ("zone",))
    for i in range(8):
        active, (standby,) = _holders(placed, TaskId(0, i))
        assert standby.tags["zone"] != active.tags["zone"], (i, active.process_id, standby.process_id)
    assert sorted(len(c.standby) for c in placed.values()) == [2, 2, 2, 2]  # balanced within each zone


def test_kafkas_example_two_standbys_over_zones_and_clusters():
    """ClientTagAwareStandbyTaskAssignor's comment: 3 zones x 2 clusters, 2 standbys. The first standby can be in
    another zone and another cluster; both cluster values are then used, so the second counts zones only: a
    third zone, either cluster."""
    tags = {f"{z}{k}": {"zone": z, "cluster": k} for z, k in product(("a", "b", "c"), ("1", "2"))}
    placed = _place(_clients(tags), 12, 2, ("zone", "cluster"))
    for i in range(12):
        active, standbys = _holders(placed, TaskId(0, i))
        assert len(standbys) == 2
        assert len({c.tags["zone"] for c in [active, *standbys]}) == 3
        assert any(s.tags["cluster"] != active.tags["cluster"] and s.tags["zone"] != active.tags["zone"]
                   for s in standbys)


def test_a_tag_key_whose_values_are_all_used_stops_counting():
    """Two zones, two standbys: the first goes to the other zone, then both zone values are used and the second
    may go anywhere (Kafka drops the key rather than leaving the standby out)."""
    tags = {"a": {"zone": "z1"}, "b": {"zone": "z1"}, "c": {"zone": "z2"}}
    placed = _place(_clients(tags), 3, 2, ("zone",))
    for i in range(3):  # two standbys on three clients: every client holds a copy
        active, standbys = _holders(placed, TaskId(0, i))
        assert {active.process_id, *(s.process_id for s in standbys)} == {"a", "b", "c"}


def test_no_client_on_other_tag_values_falls_back_to_the_least_loaded(caplog):
    """Zone and cluster: no client differs from a (z1, k1) in both, so a's tasks get their standbys from the
    least loaded clients, with one warning naming them; b's and c's tasks still get fully different ones."""
    tags = {"a": {"zone": "z1", "cluster": "k1"}, "b": {"zone": "z2", "cluster": "k1"},
            "c": {"zone": "z1", "cluster": "k2"}}
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.assignment"):
        placed = _place(_clients(tags), 6, 1, ("zone", "cluster"))
    on_a = sorted(t for t in placed["a"].active)
    assert on_a and all(len(_holders(placed, t)[1]) == 1 for t in on_a)  # placed all the same
    for name in ("b", "c"):
        for t in placed[name].active:
            (standby,) = _holders(placed, t)[1]
            assert all(standby.tags[k] != v for k, v in tags[name].items())
    (warning,) = [r.getMessage() for r in caplog.records]
    assert (f"not able to assign {len(on_a)} of the {len(on_a)} standby tasks of the active tasks "
            f"{', '.join(str(t) for t in on_a)}") in warning


def test_only_the_configured_tag_keys_count():
    """A client tag that is not in rack.aware.assignment.tags is ignored (Kafka logs and skips it): with "host"
    configured, the zone tags change nothing."""
    hosts = {"a": {"host": "h1"}, "b": {"host": "h2"}, "c": {"host": "h3"}}
    zones = {"a": "z1", "b": "z1", "c": "z2"}
    with_zones = _place(_clients({c: {**t, "zone": zones[c]} for c, t in hosts.items()}), 6, 1, ("host",))
    without = _place(_clients(hosts), 6, 1, ("host",))
    assert {c: sorted(s.standby) for c, s in with_zones.items()} == {c: sorted(s.standby) for c, s in without.items()}


def test_standbys_never_join_their_active_or_double_up_and_warm_ups_stay():
    tags = {"a": {"zone": "z1"}, "b": {"zone": "z2"}, "c": {"zone": "z3"}}
    clients = _clients(tags)
    for c in clients:
        c.lags = {TaskId(0, i): 0 for i in range(6)}
    placed = _place(clients, 6, 5, ("zone",))  # more replicas than clients: two each, never three
    for i in range(6):
        active, standbys = _holders(placed, TaskId(0, i))
        assert active not in standbys and len(standbys) == len({s.process_id for s in standbys}) == 2


# ---------------------------------------------------------------------------------------------------------- assignor
def _tagged(process: str, zone: str) -> MemberSubscription:
    return MemberSubscription(["in"], SubscriptionInfo(process, None, client_tags={"zone": zone}))


def test_the_leader_spreads_standbys_over_the_members_zones():
    p = plan(6)
    members = {"a-1": _tagged("A", "z1"), "b-1": _tagged("B", "z1"), "c-1": _tagged("C", "z2")}
    result = StreamsPartitionAssignor(p, 1, rack_aware_assignment_tags=["zone"]).assign(
        p.topic_partitions, members, ends(p, 0))
    zone_of = {m: s.info.client_tags["zone"] for m, s in members.items()}
    for i in range(6):
        t = TaskId(0, i)
        (active,) = [m for m, a in result.items() if t in a.info.active_tasks]
        (standby,) = [m for m, a in result.items() if t in a.info.standby_tasks]
        assert zone_of[standby] != zone_of[active]
