"""Domain exceptions. Each names the HTTP status the web app answers with; the CLI prints the message and
exits non-zero."""

from typing import ClassVar


class CallQAError(Exception):
    """Base of every error callqa reports to a person: the message says what happened and what to do."""

    http_status: ClassVar[int] = 500


class ConfigError(CallQAError):
    """A setting is missing or wrong; the message names the file and key."""


class AudioError(CallQAError):
    """A recording cannot be decoded or is unusable; the message is the one-line reason stored for it."""


class MetadataError(CallQAError):
    """A sidecar or manifest is malformed; the message names the file, line and field."""

    http_status = 422


class ModelError(CallQAError):
    """A model cannot be found, built or loaded."""


class StoreError(CallQAError):
    """The database cannot be opened or written (most often: a run holds it longer than a page may wait)."""

    http_status = 503


class NotFound(CallQAError):
    """The resource does not exist or the viewer may not see it."""

    http_status = 404


class Forbidden(CallQAError):
    """The viewer may see the resource but not do this to it, e.g. an agent overturning a verdict."""

    http_status = 403


class Invalid(CallQAError):
    """A request names a field with a value it cannot take; the message names the field."""

    http_status = 422
