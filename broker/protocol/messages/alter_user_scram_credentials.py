"""AlterUserScramCredentials (api key 51): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/AlterUserScramCredentialsRequest.json and
AlterUserScramCredentialsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=51, name='AlterUserScramCredentials', versions=(0, 0), flexible='0+',
    request=(
        F('deletions', '[]ScramCredentialDeletion', '0+', fields=(
            F('name', 'string', '0+'),
            F('mechanism', 'int8', '0+'),
        )),
        F('upsertions', '[]ScramCredentialUpsertion', '0+', fields=(
            F('name', 'string', '0+'),
            F('mechanism', 'int8', '0+'),
            F('iterations', 'int32', '0+'),
            F('salt', 'bytes', '0+'),
            F('salted_password', 'bytes', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]AlterUserScramCredentialsResult', '0+', fields=(
            F('user', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
        )),
    ),
)
