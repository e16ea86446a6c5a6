"""DescribeUserScramCredentials (api key 50): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/DescribeUserScramCredentialsRequest.json and
DescribeUserScramCredentialsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=50, name='DescribeUserScramCredentials', versions=(0, 0), flexible='0+',
    request=(
        F('users', '[]UserName', '0+', nullable='0+', fields=(
            F('name', 'string', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('results', '[]DescribeUserScramCredentialsResult', '0+', fields=(
            F('user', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('credential_infos', '[]CredentialInfo', '0+', fields=(
                F('mechanism', 'int8', '0+'),
                F('iterations', 'int32', '0+'),
            )),
        )),
    ),
)
