"""LeaveGroup (api key 13): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/LeaveGroupRequest.json and
LeaveGroupResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=13, name='LeaveGroup', versions=(0, 5), flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('member_id', 'string', '0-2'),
        F('members', '[]MemberIdentity', '3+', fields=(
            F('member_id', 'string', '3+'),
            F('group_instance_id', 'string', '3+', nullable='3+', default=None),
            F('reason', 'string', '5+', nullable='5+', default=None),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('members', '[]MemberResponse', '3+', fields=(
            F('member_id', 'string', '3+'),
            F('group_instance_id', 'string', '3+', nullable='3+'),
            F('error_code', 'int16', '3+'),
        )),
    ),
)
