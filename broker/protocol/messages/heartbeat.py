"""Heartbeat (api key 12): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/HeartbeatRequest.json and
HeartbeatResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=12, name='Heartbeat', versions=(0, 4), flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('generation_id', 'int32', '0+'),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '3+', nullable='3+', default=None),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
    ),
)
