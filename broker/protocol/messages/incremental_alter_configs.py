"""IncrementalAlterConfigs (api key 44): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/IncrementalAlterConfigsRequest.json and
IncrementalAlterConfigsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=44, name='IncrementalAlterConfigs', versions=(0, 1), flexible='1+',
    request=(
        F('resources', '[]AlterConfigsResource', '0+', fields=(
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('configs', '[]AlterableConfig', '0+', fields=(
                F('name', 'string', '0+'),
                F('config_operation', 'int8', '0+'),
                F('value', 'string', '0+', nullable='0+'),
            )),
        )),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('responses', '[]AlterConfigsResourceResponse', '0+', fields=(
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
        )),
    ),
)
