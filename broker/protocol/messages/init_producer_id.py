"""InitProducerId (api key 22): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/InitProducerIdRequest.json and
InitProducerIdResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=22, name='InitProducerId', versions=(0, 5), flexible='2+',
    request=(
        F('transactional_id', 'string', '0+', nullable='0+'),
        F('transaction_timeout_ms', 'int32', '0+'),
        F('producer_id', 'int64', '3+', default=-1),
        F('producer_epoch', 'int16', '3+', default=-1),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('producer_id', 'int64', '0+', default=-1),
        F('producer_epoch', 'int16', '0+'),
    ),
)
