"""UpdateFeatures (api key 57): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/UpdateFeaturesRequest.json and
UpdateFeaturesResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=57, name='UpdateFeatures', versions=(0, 2), flexible='0+',
    request=(
        F('timeout_ms', 'int32', '0+', default=60000),
        F('feature_updates', '[]FeatureUpdateKey', '0+', fields=(
            F('feature', 'string', '0+'),
            F('max_version_level', 'int16', '0+'),
            F('allow_downgrade', 'bool', '0'),
            F('upgrade_type', 'int8', '1+', default=1),
        )),
        F('validate_only', 'bool', '1+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('results', '[]UpdatableFeatureResult', '0-1', fields=(
            F('feature', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
        )),
    ),
)
