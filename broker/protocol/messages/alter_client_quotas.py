"""AlterClientQuotas (api key 49): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/AlterClientQuotasRequest.json and
AlterClientQuotasResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=49, name='AlterClientQuotas', versions=(0, 1), flexible='1+',
    request=(
        F('entries', '[]EntryData', '0+', fields=(
            F('entity', '[]EntityData', '0+', fields=(
                F('entity_type', 'string', '0+'),
                F('entity_name', 'string', '0+', nullable='0+'),
            )),
            F('ops', '[]OpData', '0+', fields=(
                F('key', 'string', '0+'),
                F('value', 'float64', '0+'),
                F('remove', 'bool', '0+'),
            )),
        )),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('entries', '[]EntryData', '0+', fields=(
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('entity', '[]EntityData', '0+', fields=(
                F('entity_type', 'string', '0+'),
                F('entity_name', 'string', '0+', nullable='0+'),
            )),
        )),
    ),
)
