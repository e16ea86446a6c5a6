"""DeleteTopics (api key 20): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/DeleteTopicsRequest.json and
DeleteTopicsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=20, name='DeleteTopics', versions=(1, 6), flexible='4+',
    request=(
        F('topics', '[]DeleteTopicState', '6+', fields=(
            F('name', 'string', '6+', nullable='6+', default=None),
            F('topic_id', 'uuid', '6+'),
        )),
        F('topic_names', '[]string', '0-5'),
        F('timeout_ms', 'int32', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('responses', '[]DeletableTopicResult', '0+', fields=(
            F('name', 'string', '0+', nullable='6+'),
            F('topic_id', 'uuid', '6+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '5+', nullable='5+', default=None),
        )),
    ),
)
