"""DeleteGroups (api key 42): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/DeleteGroupsRequest.json and
DeleteGroupsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=42, name='DeleteGroups', versions=(0, 2), flexible='2+',
    request=(
        F('groups_names', '[]string', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]DeletableGroupResult', '0+', fields=(
            F('group_id', 'string', '0+'),
            F('error_code', 'int16', '0+'),
        )),
    ),
)
