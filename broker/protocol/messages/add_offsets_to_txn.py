"""AddOffsetsToTxn (api key 25): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/AddOffsetsToTxnRequest.json and
AddOffsetsToTxnResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=25, name='AddOffsetsToTxn', versions=(0, 4), flexible='3+',
    request=(
        F('transactional_id', 'string', '0+'),
        F('producer_id', 'int64', '0+'),
        F('producer_epoch', 'int16', '0+'),
        F('group_id', 'string', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
    ),
)
