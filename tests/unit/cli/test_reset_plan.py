"""The reset tool's pure planner (pystreams.runtime.reset): Kafka's StreamsResetter rules (internal topic names,
offset positions and their clamping, datetime / duration / CSV formats) and its printed lines, and every check made
before the first write (a plan either comes whole or not at all)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pystreams.runtime.reset import (
    DRY_RUN_HEADER,
    ClusterState,
    CommitOffsets,
    DeleteCommittedOffsets,
    DeleteTopics,
    Member,
    Position,
    RemoveMembers,
    ResetError,
    ResetOptions,
    is_inferred_internal_topic,
    matches_internal_topic_format,
    parse_datetime,
    parse_duration_ms,
    parse_reset_plan,
    plan_reset,
    position_from_options,
)

pytestmark = pytest.mark.unit

APP = "wc"


def _ms(*args: int, tz: timezone = timezone.utc) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)


# ---------------------------------------------------------------------------------------------- internal topics
@pytest.mark.parametrize("name", [
    "wc-counts-changelog", "wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition",
    "wc-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
    "wc-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
    "wc-fk-subscription-registration-topic", "wc-fk-subscription-response-topic"])
def test_kafka_internal_topic_formats_match(name):
    assert matches_internal_topic_format(name)
    assert is_inferred_internal_topic(name, APP)


@pytest.mark.parametrize("name", ["wc-output", "wc-changelog-archive",
                                  "wc-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-x-topic",
                                  "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-1-topic"])
def test_other_names_do_not_match(name):
    assert not matches_internal_topic_format(name)


def test_inferred_needs_the_application_id_prefix_and_is_never_a_user_topic():
    assert not is_inferred_internal_topic("wc2-counts-changelog", APP)  # another application's
    assert not is_inferred_internal_topic("other-counts-changelog", APP)
    # KAFKA-7930: an input topic named like an internal one is not deleted
    assert not is_inferred_internal_topic("wc-in-repartition", APP, ["wc-in-repartition"])


# ---------------------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("text, expected", [
    ("2020-11-10T16:51:38.198", _ms(2020, 11, 10, 16, 51, 38) + 198),  # no zone: UTC
    ("2020-11-10T16:51:38.198Z", _ms(2020, 11, 10, 16, 51, 38) + 198),
    ("2020-11-10T16:51:38.198+08:00", _ms(2020, 11, 10, 8, 51, 38) + 198),
    ("2020-11-10T16:51:38.198+0800", _ms(2020, 11, 10, 8, 51, 38) + 198),
    ("2020-11-10T16:51:38.198+08", _ms(2020, 11, 10, 8, 51, 38) + 198),
    ("2020-11-10T16:51:38.198-05:30", _ms(2020, 11, 10, 22, 21, 38) + 198),
    ("2020-11-10T16:51:38.1", _ms(2020, 11, 10, 16, 51, 38) + 1),  # Java: the digits are milliseconds
])
def test_datetimes_as_kafka_reads_them(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text, message", [
    ("2020-11-10 16:51:38.198", "does not contain a 'T'"),
    ("2020-11-10T16:51:38", "Unparseable date"),  # Kafka needs the milliseconds
    ("2020-13-10T16:51:38.000", "no such date"),
    ("2020-02-30T16:51:38.000", "no such date"),
    ("yesterdayTnoon", "Unparseable date"),
])
def test_bad_datetimes_are_clear_errors(text, message):
    with pytest.raises(ResetError, match=message):
        parse_datetime(text)


@pytest.mark.parametrize("text, ms", [("PT15M", 900_000), ("P1DT2H", 93_600_000), ("P2D", 172_800_000),
                                      ("-PT30S", -30_000), ("PT0.5S", 500), ("pt1m30s", 90_000),
                                      ("PT1.0001S", 1001), ("PT-1H30M", -1_800_000)])
def test_durations_as_java_parses_them(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["15m", "P", "PT", "P1DT", "PT1H2", "1D"])
def test_bad_durations_are_clear_errors(text):
    with pytest.raises(ResetError, match="Text cannot be parsed to a Duration"):
        parse_duration_ms(text)


def test_reset_plan_csv():
    assert parse_reset_plan("in,0,5\nin,1,7\n") == {("in", 0): 5, ("in", 1): 7}
    with pytest.raises(ResetError, match="TOPIC,PARTITION,OFFSET"):
        parse_reset_plan("in,0\n")
    with pytest.raises(ResetError, match="must be numbers"):
        parse_reset_plan("in,zero,5")
    with pytest.raises(ResetError, match="It is empty"):
        parse_reset_plan("")


def test_one_position_option_at_most_with_kafkas_message():
    with pytest.raises(ResetError, match=r'Option "\[to-offset\]" can\'t be used with option "\[shift-by\]"'):
        position_from_options(to_offset=3, shift_by=2)
    assert position_from_options() == Position("earliest")
    now = _ms(2024, 1, 1, 12, 0, 0)
    assert position_from_options(by_duration="PT1H", now_ms=now) == Position("datetime", now - 3_600_000)
    assert position_from_options(to_datetime="2024-01-01T11:00:00.000") == Position("datetime", now - 3_600_000)


# ---------------------------------------------------------------------------------------------- plans
def _cluster(**kw) -> ClusterState:
    topics = {"in": 2, "out": 2, "wc-counts-changelog": 2, "wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition": 2,
              "other-x-changelog": 1}
    base = dict(topics=topics, committed={("in", 0): 4, ("in", 1): 2,
                                          ("wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition", 0): 9},
                beginning={("in", 0): 0, ("in", 1): 1}, end={("in", 0): 10, ("in", 1): 5})
    base.update(kw)
    return ClusterState(**base)


def _lines(plan) -> list[str]:
    return [line for step in plan.steps for line in step.lines]


def _offsets(plan) -> dict:
    return dict(plan.action(CommitOffsets).offsets)


def test_default_plan_resets_inputs_to_earliest_and_deletes_internal_topics_with_kafkas_lines():
    plan = plan_reset(ResetOptions(APP, input_topics=("in",)), _cluster())
    assert _lines(plan) == [
        "Reset-offsets for input topics [in]",
        "Following input topics offsets will be reset to (for consumer group wc)",
        "Topic: in Partition: 0 Offset: 0", "Topic: in Partition: 1 Offset: 1",
        "Done.",
        "Deleting inferred internal topics [wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition, "
        "wc-counts-changelog]",
        "Done."]
    assert _offsets(plan) == {("in", 0): 0, ("in", 1): 1}
    assert plan.action(DeleteTopics).topics == ("wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition",
                                                 "wc-counts-changelog")
    # the group's offset on a topic about to be deleted goes first (a re-created topic starts clean)
    kinds = [type(s.action) for s in plan.steps if s.action is not None]
    assert kinds == [CommitOffsets, DeleteCommittedOffsets, DeleteTopics]
    assert plan.action(DeleteCommittedOffsets).partitions == (
        ("wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition", 0),)
    assert plan.warnings == ()


def test_active_members_refuse_the_reset_with_kafkas_message():
    member = Member("m-1", None, "wc-StreamThread-1", "/127.0.0.1", (("in", 0),))
    with pytest.raises(ResetError) as info:
        plan_reset(ResetOptions(APP, input_topics=("in",)), _cluster(members=(member,)))
    assert str(info.value) == (
        "Consumer group 'wc' is still active and has following members: [(memberId=m-1, groupInstanceId=null, "
        "clientId=wc-StreamThread-1, host=/127.0.0.1, assignment=(topicPartitions=in-0))]. Make sure to stop all "
        "running application instances before running the reset tool. You can use option '--force' to remove "
        "active members from the group.")


def test_force_removes_the_members_first():
    member = Member("m-1")
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), force=True), _cluster(members=(member,)))
    assert plan.steps[0].lines == ("Force deleting all active members in the group: wc",)
    assert plan.steps[0].action == RemoveMembers((member,))


def test_every_problem_is_reported_and_nothing_planned():
    with pytest.raises(ResetError) as info:
        plan_reset(ResetOptions(APP, input_topics=("in", "nope"), intermediate_topics=("gone",),
                                internal_topics=("out",)), _cluster(members=(Member("m"),)))
    text = str(info.value)
    assert "still active" in text and "Input topics not found: [nope]" in text
    assert "Intermediate topics not found: [gone]" in text
    assert "Invalid topic specified in the --internal-topics option." in text


def test_specified_internal_topics_must_be_a_subset_of_the_inferred_ones():
    plan = plan_reset(ResetOptions(APP, internal_topics=("wc-counts-changelog",)), _cluster())
    assert plan.action(DeleteTopics).topics == ("wc-counts-changelog",)
    assert "Deleting specified internal topics [wc-counts-changelog]" in _lines(plan)
    with pytest.raises(ResetError, match="Invalid topic specified"):
        plan_reset(ResetOptions(APP, internal_topics=("other-x-changelog",)), _cluster())


def test_no_input_topics_skips_the_seek():
    plan = plan_reset(ResetOptions(APP), _cluster())
    assert _lines(plan)[0] == "No input or intermediate topics specified. Skipping seek."
    assert plan.action(CommitOffsets) is None


def test_to_offset_is_clamped_with_kafkas_messages():
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("offset", 7)), _cluster())
    assert _offsets(plan) == {("in", 0): 7, ("in", 1): 5}
    assert "New offset (7) is higher than latest offset. Value will be set to 5" in _lines(plan)
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("offset", 1)), _cluster())
    # Kafka sets the earliest (with its message) for an offset equal to it too
    assert _offsets(plan) == {("in", 0): 1, ("in", 1): 1}
    assert _lines(plan).count("New offset (1) is lower than earliest offset. Value will be set to 1") == 1


def test_shift_by_starts_at_the_committed_offset_else_the_consumers_reset_policy():
    committed_one = {("in", 0): 4}
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("shift", -3)),
                      _cluster(committed=committed_one))
    assert _offsets(plan) == {("in", 0): 1, ("in", 1): 2}  # p1 uncommitted: latest (5) - 3
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("shift", 2),
                                   auto_offset_reset="earliest"), _cluster(committed=committed_one))
    assert _offsets(plan) == {("in", 0): 6, ("in", 1): 3}
    with pytest.raises(ResetError, match=r"Undefined offset with no reset policy for partitions: \[in-1\]"):
        plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("shift", 2), auto_offset_reset="none"),
                   _cluster(committed=committed_one))


def test_to_datetime_falls_back_to_the_end_where_no_record_is_that_late():
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("datetime", 123)),
                      _cluster(for_time={("in", 0): 6, ("in", 1): -1}))
    assert _offsets(plan) == {("in", 0): 6, ("in", 1): 5}
    assert ("Partition 1 from topic in is empty, without a committed record. Falling back to latest known offset."
            in _lines(plan))


def test_from_file_names_exactly_the_input_partitions():
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("file", plan={("in", 0): 3,
                                                                                              ("in", 1): 99})),
                      _cluster())
    assert _offsets(plan) == {("in", 0): 3, ("in", 1): 5}
    with pytest.raises(ResetError, match=r"no offset for input partitions \[in-1\]"):
        plan_reset(ResetOptions(APP, input_topics=("in",), position=Position("file", plan={("in", 0): 3})),
                   _cluster())
    with pytest.raises(ResetError, match=r"not partitions of the input topics: \[out-0\]"):
        plan_reset(ResetOptions(APP, input_topics=("in",), position=Position(
            "file", plan={("in", 0): 3, ("in", 1): 1, ("out", 0): 1})), _cluster())


def test_intermediate_topics_seek_to_the_end_with_the_deprecation_warning():
    cluster = _cluster(end={("in", 0): 10, ("in", 1): 5, ("out", 0): 8, ("out", 1): 3},
                       beginning={("in", 0): 0, ("in", 1): 1, ("out", 0): 0, ("out", 1): 0})
    plan = plan_reset(ResetOptions(APP, input_topics=("in",), intermediate_topics=("out",)), cluster)
    assert _offsets(plan) == {("in", 0): 0, ("in", 1): 1, ("out", 0): 8, ("out", 1): 3}
    lines = _lines(plan)
    assert lines[0] == "WARN: `--intermediate-topics` is deprecated and will be removed in a future release"
    assert "Seek-to-end for intermediate topics [out]" in lines
    assert "Following intermediate topics offsets will be reset to end (for consumer group wc)" in lines


def test_dry_run_plans_the_same_steps_after_kafkas_header():
    real = plan_reset(ResetOptions(APP, input_topics=("in",)), _cluster())
    dry = plan_reset(ResetOptions(APP, input_topics=("in",), dry_run=True), _cluster())
    assert dry.steps[0].lines == (DRY_RUN_HEADER,)
    assert dry.steps[1:] == real.steps
    # with --force the header comes before the (previewed, not done) member removal
    forced = plan_reset(ResetOptions(APP, input_topics=("in",), dry_run=True, force=True),
                        _cluster(members=(Member("m"),)))
    assert [s.lines[0] for s in forced.steps[:2]] == [DRY_RUN_HEADER,
                                                      "Force deleting all active members in the group: wc"]


def test_an_unknown_group_is_no_error_but_a_warning():
    plan = plan_reset(ResetOptions(APP, input_topics=("in",)), _cluster(group_exists=False, committed={}))
    assert plan.warnings and "there is no consumer group 'wc'" in plan.warnings[0]
    assert plan.action(DeleteCommittedOffsets) is None


def test_by_duration_resolves_against_now():
    now = _ms(2024, 5, 1, 0, 0, 0)
    pos = position_from_options(by_duration="P1DT1H", now_ms=now)
    assert pos.value == int((datetime(2024, 5, 1, tzinfo=timezone.utc) - timedelta(days=1, hours=1)).timestamp()
                            * 1000)
