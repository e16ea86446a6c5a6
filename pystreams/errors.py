"""One error root for the whole project: every error says what went wrong and what to do."""
from __future__ import annotations


class PystreamsError(Exception):
    """Base of every error pystreams raises on purpose."""


class ConfigError(PystreamsError):
    """A configuration value is missing or wrong; the message names the key and the fix."""


class TopologyError(PystreamsError):
    """A topology cannot be built or compiled; the message names the operator and the fix."""


class SerdeError(PystreamsError):
    """A key or value could not be serialized or deserialized."""


class StateStoreError(PystreamsError):
    """A state store is missing, closed or was used in a way it does not allow."""


class BrokerUnreachableError(PystreamsError):
    """No broker answered at the configured bootstrap servers."""
