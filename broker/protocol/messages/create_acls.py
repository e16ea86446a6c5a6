"""CreateAcls (api key 30): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/CreateAclsRequest.json and
CreateAclsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=30, name='CreateAcls', versions=(1, 3), flexible='2+',
    request=(
        F('creations', '[]AclCreation', '0+', fields=(
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('resource_pattern_type', 'int8', '1+', default=3),
            F('principal', 'string', '0+'),
            F('host', 'string', '0+'),
            F('operation', 'int8', '0+'),
            F('permission_type', 'int8', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]AclCreationResult', '0+', fields=(
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
        )),
    ),
)
