"""Exception types, one per kind of user mistake.

Every message names the data set, the file and the field involved and says what to
change, because the message is all a user of the workflow sees.
"""


class PipelineError(Exception):
    """Base class: an error the user can fix (input, config, network)."""


class ConfigError(PipelineError):
    """The config file is invalid: unknown key, wrong type, impossible combination."""


class GroupingError(PipelineError):
    """Samples could not be split into resistant and sensitive groups."""


class InputFormatError(PipelineError):
    """An input file is malformed, truncated or not what it claims to be."""


class AnnotationError(PipelineError):
    """A platform has no usable probe-to-gene annotation."""


class DownloadError(PipelineError):
    """A file could not be fetched (not found, network fault, truncated transfer)."""


class NotFoundError(DownloadError):
    """The server answered 404: the accession or file does not exist there."""
