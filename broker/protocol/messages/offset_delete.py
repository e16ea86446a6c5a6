"""OffsetDelete (api key 47): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/OffsetDeleteRequest.json and
OffsetDeleteResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=47, name='OffsetDelete', versions=(0, 0), flexible='none',
    request=(
        F('group_id', 'string', '0+'),
        F('topics', '[]OffsetDeleteRequestTopic', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]OffsetDeleteRequestPartition', '0+', fields=(
                F('partition_index', 'int32', '0+'),
            )),
        )),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]OffsetDeleteResponseTopic', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]OffsetDeleteResponsePartition', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
            )),
        )),
    ),
)
