"""CreatePartitions (api key 37): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/CreatePartitionsRequest.json and
CreatePartitionsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=37, name='CreatePartitions', versions=(0, 3), flexible='2+',
    request=(
        F('topics', '[]CreatePartitionsTopic', '0+', fields=(
            F('name', 'string', '0+'),
            F('count', 'int32', '0+'),
            F('assignments', '[]CreatePartitionsAssignment', '0+', nullable='0+', fields=(
                F('broker_ids', '[]int32', '0+'),
            )),
        )),
        F('timeout_ms', 'int32', '0+'),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]CreatePartitionsTopicResult', '0+', fields=(
            F('name', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None),
        )),
    ),
)
