"""DeleteRecords (api key 21): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/DeleteRecordsRequest.json and
DeleteRecordsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=21, name='DeleteRecords', versions=(0, 2), flexible='2+',
    request=(
        F('topics', '[]DeleteRecordsTopic', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]DeleteRecordsPartition', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('offset', 'int64', '0+'),
            )),
        )),
        F('timeout_ms', 'int32', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]DeleteRecordsTopicResult', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]DeleteRecordsPartitionResult', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('low_watermark', 'int64', '0+'),
                F('error_code', 'int16', '0+'),
            )),
        )),
    ),
)
