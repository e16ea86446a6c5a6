"""ElectLeaders (api key 43): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ElectLeadersRequest.json and
ElectLeadersResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=43, name='ElectLeaders', versions=(0, 2), flexible='2+',
    request=(
        F('election_type', 'int8', '1+'),
        F('topic_partitions', '[]TopicPartitions', '0+', nullable='0+', fields=(
            F('topic', 'string', '0+'),
            F('partitions', '[]int32', '0+'),
        )),
        F('timeout_ms', 'int32', '0+', default=60000),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '1+'),
        F('replica_election_results', '[]ReplicaElectionResult', '0+', fields=(
            F('topic', 'string', '0+'),
            F('partition_result', '[]PartitionResult', '0+', fields=(
                F('partition_id', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+'),
            )),
        )),
    ),
)
