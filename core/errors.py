"""Domain exceptions. The CLI turns them into a one-line message and a non-zero exit."""


class CallQAError(Exception):
    """Base of every error callqa reports to a person."""


class ConfigError(CallQAError):
    """A setting is missing or wrong; the message names the file and key."""


class AudioError(CallQAError):
    """A recording cannot be decoded or is unusable; the message is the one-line reason stored for it."""


class MetadataError(CallQAError):
    """A sidecar or manifest is malformed; the message names the file, line and field."""


class ModelError(CallQAError):
    """A model cannot be found, built or loaded."""


class StoreError(CallQAError):
    """The database cannot be opened or written."""
