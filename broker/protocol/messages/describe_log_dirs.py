"""DescribeLogDirs (api key 35): our compact transcription of the request and response
schemas in Kafka's clients/src/main/resources/common/message/DescribeLogDirsRequest.json and
DescribeLogDirsResponse.json (field names in snake_case, versions as Kafka writes them)."""
from __future__ import annotations

from ..schema import Api, F

API = Api(key=35, name='DescribeLogDirs', versions=(1, 4), flexible='2+',
    request=(
        F('topics', '[]DescribableLogDirTopic', '0+', nullable='0+', fields=(
            F('topic', 'string', '0+'),
            F('partitions', '[]int32', '0+'),
        )),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '3+'),
        F('results', '[]DescribeLogDirsResult', '0+', fields=(
            F('error_code', 'int16', '0+'),
            F('log_dir', 'string', '0+'),
            F('topics', '[]DescribeLogDirsTopic', '0+', fields=(
                F('name', 'string', '0+'),
                F('partitions', '[]DescribeLogDirsPartition', '0+', fields=(
                    F('partition_index', 'int32', '0+'),
                    F('partition_size', 'int64', '0+'),
                    F('offset_lag', 'int64', '0+'),
                    F('is_future_key', 'bool', '0+'),
                )),
            )),
            F('total_bytes', 'int64', '4+', default=-1),
            F('usable_bytes', 'int64', '4+', default=-1),
        )),
    ),
)
