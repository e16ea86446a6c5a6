"""SaslHandshake (api key 17): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/SaslHandshakeRequest.json and
SaslHandshakeResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=17, name='SaslHandshake', versions=(0, 1), flexible='none',
    request=(
        F('mechanism', 'string', '0+'),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('mechanisms', '[]string', '0+'),
    ),
)
