"""ListPartitionReassignments (api key 46): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ListPartitionReassignmentsRequest.json and
ListPartitionReassignmentsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=46, name='ListPartitionReassignments', versions=(0, 0), flexible='0+',
    request=(
        F('timeout_ms', 'int32', '0+', default=60000),
        F('topics', '[]ListPartitionReassignmentsTopics', '0+', nullable='0+', default=None, fields=(
            F('name', 'string', '0+'),
            F('partition_indexes', '[]int32', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('topics', '[]OngoingTopicReassignment', '0+', fields=(
            F('name', 'string', '0+'),
            F('partitions', '[]OngoingPartitionReassignment', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('replicas', '[]int32', '0+'),
                F('adding_replicas', '[]int32', '0+'),
                F('removing_replicas', '[]int32', '0+'),
            )),
        )),
    ),
)
