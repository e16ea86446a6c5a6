"""The consumer group "consumer" protocol's embedded payloads: our transcription of Kafka's
ConsumerProtocolSubscription.json and ConsumerProtocolAssignment.json (type "data", versions 0-3,
never flexible). They travel as opaque bytes inside JoinGroup/SyncGroup/DescribeGroups, prefixed
by an int16 version."""
from __future__ import annotations

from ..schema import F

VERSIONS = (0, 3)

SUBSCRIPTION = (
    F('topics', '[]string', '0+'),
    F('user_data', 'bytes', '0+', nullable='0+', default=None),
    F('owned_partitions', '[]TopicPartition', '1+', fields=(
        F('topic', 'string', '1+'),
        F('partitions', '[]int32', '1+'),
    )),
    F('generation_id', 'int32', '2+', default=-1),
    F('rack_id', 'string', '3+', nullable='3+', default=None),
)

ASSIGNMENT = (
    F('assigned_partitions', '[]TopicPartition', '0+', fields=(
        F('topic', 'string', '0+'),
        F('partitions', '[]int32', '0+'),
    )),
    F('user_data', 'bytes', '0+', nullable='0+', default=None),
)
