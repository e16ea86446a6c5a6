"""OffsetForLeaderEpoch (api key 23): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/OffsetForLeaderEpochRequest.json and
OffsetForLeaderEpochResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=23, name='OffsetForLeaderEpoch', versions=(2, 4), flexible='4+',
    request=(
        F('replica_id', 'int32', '3+', default=-2),
        F('topics', '[]OffsetForLeaderTopic', '0+', fields=(
            F('topic', 'string', '0+'),
            F('partitions', '[]OffsetForLeaderPartition', '0+', fields=(
                F('partition', 'int32', '0+'),
                F('current_leader_epoch', 'int32', '2+', default=-1),
                F('leader_epoch', 'int32', '0+'),
            )),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '2+'),
        F('topics', '[]OffsetForLeaderTopicResult', '0+', fields=(
            F('topic', 'string', '0+'),
            F('partitions', '[]EpochEndOffset', '0+', fields=(
                F('error_code', 'int16', '0+'),
                F('partition', 'int32', '0+'),
                F('leader_epoch', 'int32', '1+', default=-1),
                F('end_offset', 'int64', '0+', default=-1),
            )),
        )),
    ),
)
