"""EndTxn (api key 26): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/EndTxnRequest.json and
EndTxnResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=26, name='EndTxn', versions=(0, 4), flexible='3+',
    request=(
        F('transactional_id', 'string', '0+'),
        F('producer_id', 'int64', '0+'),
        F('producer_epoch', 'int16', '0+'),
        F('committed', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('producer_id', 'int64', '5+', default=-1),
        F('producer_epoch', 'int16', '5+', default=-1),
    ),
)
