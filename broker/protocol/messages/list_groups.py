"""ListGroups (api key 16): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ListGroupsRequest.json and
ListGroupsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=16, name='ListGroups', versions=(0, 5), flexible='3+',
    request=(
        F('states_filter', '[]string', '4+'),
        F('types_filter', '[]string', '5+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('groups', '[]ListedGroup', '0+', fields=(
            F('group_id', 'string', '0+'),
            F('protocol_type', 'string', '0+'),
            F('group_state', 'string', '4+'),
            F('group_type', 'string', '5+'),
        )),
    ),
)
