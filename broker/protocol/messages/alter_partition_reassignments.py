"""AlterPartitionReassignments (api key 45): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/AlterPartitionReassignmentsRequest.json and
AlterPartitionReassignmentsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=45, name='AlterPartitionReassignments', versions=(0, 0), flexible='0+',
    request=(
        F('timeout_ms', 'int32', '0+', default=60000),
        F('topics', '[]ReassignableTopic', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]ReassignablePartition', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('replicas', '[]int32', '0+', nullable='0+', default=None),
            )),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('responses', '[]ReassignableTopicResponse', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]ReassignablePartitionResponse', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+'),
            )),
        )),
    ),
)
