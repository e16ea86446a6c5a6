"""SaslAuthenticate (api key 36): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/SaslAuthenticateRequest.json and
SaslAuthenticateResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=36, name='SaslAuthenticate', versions=(0, 2), flexible='2+',
    request=(
        F('auth_bytes', 'bytes', '0+'),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('auth_bytes', 'bytes', '0+'),
        F('session_lifetime_ms', 'int64', '1+', default=0),
    ),
)
