"""SyncGroup (api key 14): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/SyncGroupRequest.json and
SyncGroupResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=14, name='SyncGroup', versions=(0, 5), flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('generation_id', 'int32', '0+'),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '3+', nullable='3+', default=None),
        F('protocol_type', 'string', '5+', nullable='5+', default=None),
        F('protocol_name', 'string', '5+', nullable='5+', default=None),
        F('assignments', '[]SyncGroupRequestAssignment', '0+', fields=(
            F('member_id', 'string', '0+'),
            F('assignment', 'bytes', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('protocol_type', 'string', '5+', nullable='5+', default=None),
        F('protocol_name', 'string', '5+', nullable='5+', default=None),
        F('assignment', 'bytes', '0+'),
    ),
)
