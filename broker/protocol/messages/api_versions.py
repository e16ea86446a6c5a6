"""ApiVersions (api key 18): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/ApiVersionsRequest.json and
ApiVersionsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=18, name='ApiVersions', versions=(0, 4), flexible='3+',
    request=(
        F('client_software_name', 'string', '3+'),
        F('client_software_version', 'string', '3+'),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('api_keys', '[]ApiVersion', '0+', fields=(
            F('api_key', 'int16', '0+'),
            F('min_version', 'int16', '0+'),
            F('max_version', 'int16', '0+'),
        )),
        F('throttle_time_ms', 'int32', '1+'),
        F('supported_features', '[]SupportedFeatureKey', '3+', tag=0, fields=(
            F('name', 'string', '3+'),
            F('min_version', 'int16', '3+'),
            F('max_version', 'int16', '3+'),
        )),
        F('finalized_features_epoch', 'int64', '3+', tag=1, default=-1),
        F('finalized_features', '[]FinalizedFeatureKey', '3+', tag=2, fields=(
            F('name', 'string', '3+'),
            F('max_version_level', 'int16', '3+'),
            F('min_version_level', 'int16', '3+'),
        )),
        F('zk_migration_ready', 'bool', '3+', tag=3, default=False),
    ),
)
