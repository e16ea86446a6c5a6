"""ConsumerGroupHeartbeat (api key 68): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ConsumerGroupHeartbeatRequest.json and
ConsumerGroupHeartbeatResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=68, name='ConsumerGroupHeartbeat', versions=(0, 0), flexible='0+',
    request=(
        F('group_id', 'string', '0+'),
        F('member_id', 'string', '0+'),
        F('member_epoch', 'int32', '0+'),
        F('instance_id', 'string', '0+', nullable='0+', default=None),
        F('rack_id', 'string', '0+', nullable='0+', default=None),
        F('rebalance_timeout_ms', 'int32', '0+', default=-1),
        F('subscribed_topic_names', '[]string', '0+', nullable='0+', default=None),
        F('subscribed_topic_regex', 'string', '1+', nullable='1+', default=None),
        F('server_assignor', 'string', '0+', nullable='0+', default=None),
        F('topic_partitions', '[]TopicPartitions', '0+', nullable='0+', default=None, fields=(
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]int32', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('member_id', 'string', '0+', nullable='0+', default=None),
        F('member_epoch', 'int32', '0+'),
        F('heartbeat_interval_ms', 'int32', '0+'),
        F('assignment', 'Assignment', '0+', nullable='0+', default=None, fields=(
            F('topic_partitions', '[]TopicPartitions', '0+', fields=(
                F('topic_id', 'uuid', '0+'),
                F('partitions', '[]int32', '0+'),
            )),
        )),
    ),
)
