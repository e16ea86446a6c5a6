"""pystreams.runtime.assignment: the Streams assignor the group leader runs (Kafka's StreamsPartitionAssignor):
sticky, state-aware, balanced task placement with standbys and cooperative moves, and its user-data codecs.
Pure (no I/O) except task_offset_sums, which reads .checkpoint files; imports processor.task_id, runtime.topics,
runtime.checkpoint and errors only."""
from pystreams.runtime.assignment.assignor import StreamsPartitionAssignor, assignor_for
from pystreams.runtime.assignment.codec import AssignmentError
from pystreams.runtime.assignment.info import (
                                               ASSIGNMENT_ERROR,
                                               INCOMPLETE_SOURCE_TOPIC_METADATA,
                                               LATEST_OFFSET,
                                               SHUTDOWN_REQUESTED,
                                               AssignmentInfo,
                                               MemberAssignment,
                                               MemberSubscription,
                                               SubscriptionInfo,
                                               TopicPartition,
)
from pystreams.runtime.assignment.offset_sums import (
                                               register_local_task,
                                               task_offset_sums,
                                               unregister_local_task,
)

__all__ = ["ASSIGNMENT_ERROR", "INCOMPLETE_SOURCE_TOPIC_METADATA", "LATEST_OFFSET", "SHUTDOWN_REQUESTED", "AssignmentError", "AssignmentInfo", "MemberAssignment",
           "MemberSubscription", "StreamsPartitionAssignor", "SubscriptionInfo", "TopicPartition", "assignor_for",
           "register_local_task", "task_offset_sums", "unregister_local_task"]
