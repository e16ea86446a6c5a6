"""Produce (api key 0): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ProduceRequest.json and
ProduceResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=0, name='Produce', versions=(3, 11), flexible='9+',
    request=(
        F('transactional_id', 'string', '3+', nullable='3+', default=None),
        F('acks', 'int16', '0+'),
        F('timeout_ms', 'int32', '0+'),
        F('topic_data', '[]TopicProduceData', '0+', fields=(
            F('name', 'string', '0+'),
            F('partition_data', '[]PartitionProduceData', '0+', fields=(
                F('index', 'int32', '0+'),
                F('records', 'records', '0+', nullable='0+'),
            )),
        )),
    ),
    response=(
        F('responses', '[]TopicProduceResponse', '0+', fields=(
            F('name', 'string', '0+'),
            F('partition_responses', '[]PartitionProduceResponse', '0+', fields=(
                F('index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('base_offset', 'int64', '0+'),
                F('log_append_time_ms', 'int64', '2+', default=-1),
                F('log_start_offset', 'int64', '5+', default=-1),
                F('record_errors', '[]BatchIndexAndErrorMessage', '8+', fields=(
                    F('batch_index', 'int32', '8+'),
                    F('batch_index_error_message', 'string', '8+', nullable='8+', default=None),
                )),
                F('error_message', 'string', '8+', nullable='8+', default=None),
                F('current_leader', 'LeaderIdAndEpoch', '10+', tag=0, fields=(
                    F('leader_id', 'int32', '10+', default=-1),
                    F('leader_epoch', 'int32', '10+', default=-1),
                )),
            )),
        )),
        F('throttle_time_ms', 'int32', '1+', default=0),
        F('node_endpoints', '[]NodeEndpoint', '10+', tag=0, fields=(
            F('node_id', 'int32', '10+'),
            F('host', 'string', '10+'),
            F('port', 'int32', '10+'),
            F('rack', 'string', '10+', nullable='10+', default=None),
        )),
    ),
)
