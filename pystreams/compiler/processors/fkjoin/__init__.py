"""Foreign-key KTable-KTable join (Kafka's kstream.internals.foreignkeyjoin): wire formats, hash, processors."""
from pystreams.compiler.processors.fkjoin.murmur3 import hash128
from pystreams.compiler.processors.fkjoin.wrappers import (CombinedKeySchema, Instruction, SubscriptionResponseWrapper,
                                                           SubscriptionResponseWrapperSerde, SubscriptionWrapper,
                                                           SubscriptionWrapperSerde)

__all__ = ["CombinedKeySchema", "Instruction", "SubscriptionResponseWrapper", "SubscriptionResponseWrapperSerde",
           "SubscriptionWrapper", "SubscriptionWrapperSerde", "hash128"]
