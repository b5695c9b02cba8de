"""User-facing errors: each carries a message that says what went wrong and what to do."""


class RagError(Exception):
    """Base class for errors caused by input or state the user can fix (no traceback needed)."""


class InvalidQuestionError(RagError, ValueError):
    """The question is empty or too long to be a question."""


class CorpusError(RagError):
    """The corpus folder is missing or holds no readable article."""


class UnreadableFileError(RagError):
    """One file cannot be indexed (empty, binary, unsupported type, no main text)."""


class IndexNotFoundError(RagError):
    """No index has been built at the given folder."""


class IndexCorruptError(RagError):
    """The index on disk cannot be read back (truncated, edited, half-written)."""


class IndexIncompatibleError(RagError):
    """The index was built with another model, chunker or format version."""


class ModelNotFoundError(RagError):
    """The embedding model is neither packaged nor a local sentence-transformers folder."""


class ServiceUnavailableError(RagError):
    """Part of the serving system cannot answer now (a replica or a shard restarting); asking again may work."""
