"""ListTransactions (api key 66): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ListTransactionsRequest.json and
ListTransactionsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=66, name='ListTransactions', versions=(0, 1), flexible='0+',
    request=(
        F('state_filters', '[]string', '0+'),
        F('producer_id_filters', '[]int64', '0+'),
        F('duration_filter', 'int64', '1+', default=-1),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('unknown_state_filters', '[]string', '0+'),
        F('transaction_states', '[]TransactionState', '0+', fields=(
            F('transactional_id', 'string', '0+'),
            F('producer_id', 'int64', '0+'),
            F('transaction_state', 'string', '0+'),
        )),
    ),
)
