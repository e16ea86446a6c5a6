"""ConsumerGroupDescribe (api key 69): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ConsumerGroupDescribeRequest.json and
ConsumerGroupDescribeResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=69, name='ConsumerGroupDescribe', versions=(0, 0), flexible='0+',
    request=(
        F('group_ids', '[]string', '0+'),
        F('include_authorized_operations', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('groups', '[]DescribedGroup', '0+', fields=(
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None),
            F('group_id', 'string', '0+'),
            F('group_state', 'string', '0+'),
            F('group_epoch', 'int32', '0+'),
            F('assignment_epoch', 'int32', '0+'),
            F('assignor_name', 'string', '0+'),
            F('members', '[]Member', '0+', fields=(
                F('member_id', 'string', '0+'),
                F('instance_id', 'string', '0+', nullable='0+', default=None),
                F('rack_id', 'string', '0+', nullable='0+', default=None),
                F('member_epoch', 'int32', '0+'),
                F('client_id', 'string', '0+'),
                F('client_host', 'string', '0+'),
                F('subscribed_topic_names', '[]string', '0+'),
                F('subscribed_topic_regex', 'string', '0+', nullable='0+', default=None),
                F('assignment', 'Assignment', '0+', fields=(
                    F('topic_partitions', '[]TopicPartitions', '0+', fields=(
                        F('topic_id', 'uuid', '0+'),
                        F('topic_name', 'string', '0+'),
                        F('partitions', '[]int32', '0+'),
                    )),
                )),
                F('target_assignment', 'Assignment', '0+', fields=(
                    F('topic_partitions', '[]TopicPartitions', '0+', fields=(
                        F('topic_id', 'uuid', '0+'),
                        F('topic_name', 'string', '0+'),
                        F('partitions', '[]int32', '0+'),
                    )),
                )),
            )),
            F('authorized_operations', 'int32', '0+', default=-2147483648),
        )),
    ),
)
