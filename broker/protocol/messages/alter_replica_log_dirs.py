"""AlterReplicaLogDirs (api key 34): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/AlterReplicaLogDirsRequest.json and
AlterReplicaLogDirsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=34, name='AlterReplicaLogDirs', versions=(1, 2), flexible='2+',
    request=(
        F('dirs', '[]AlterReplicaLogDir', '0+', fields=(
            F('path', 'string', '0+'),
            F('topics', '[]AlterReplicaLogDirTopic', '0+', fields=(
                F('name', 'string', '0+'),
                F('partitions', '[]int32', '0+'),
            )),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]AlterReplicaLogDirTopicResult', '0+', fields=(
            F('topic_name', 'string', '0+'),
            F('partitions', '[]AlterReplicaLogDirPartitionResult', '0+', fields=(
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
            )),
        )),
    ),
)
