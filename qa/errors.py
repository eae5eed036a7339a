"""One small error hierarchy. Every message says how to fix the problem."""

from __future__ import annotations

import errno


class QAError(Exception):
    """Base class for every error qa raises on purpose; safe to show to a user."""


class EmptyCorpusError(QAError):
    """No readable text was found in the given sources."""


class SourceError(QAError):
    """A source file cannot be used (unreadable, binary, unsupported, too large)."""


class SourceChangedError(SourceError):
    """A file changed while it was being indexed: its old text must not be indexed with offsets into the new file."""


class IndexMissingError(QAError):
    """There is no index where one was expected."""


class IndexMismatchError(QAError):
    """The index was built with another model, settings or format version."""


class IndexCorruptError(QAError):
    """The index files are damaged or inconsistent."""


class IndexFolderError(QAError):
    """The index folder cannot be created or written (a file stands there, no permission, disk full)."""


class IndexLockedError(QAError):
    """Another process is writing the index right now."""


class StoreError(QAError):
    """The database that holds the index cannot be reached or used."""


class ModelError(QAError):
    """The embedding model cannot be found or loaded."""


class QuestionError(QAError):
    """The question (or the conversation before it) is empty or otherwise unusable."""


class ArgumentError(QAError):
    """A library call got an argument it cannot use (``k``, ``mode``, ``paths``, ``index_dir``); the message says what to pass."""


def shown(value: object, limit: int = 40) -> str:
    """A short, printable picture of a bad argument for an error message (ASCII: safe on any terminal)."""
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rebuild_hint(index_dir: object) -> str:
    return f"Rebuild it with `qa index --index {index_dir}` (or `qa index PATHS... --index {index_dir}`)."


class SkippedFileWarning(UserWarning):
    """A source file was left out of the index (the message says which and why); the others were indexed."""


def disk_full(error: BaseException) -> bool:
    """An OSError for a full disk or quota, or faiss's RuntimeError that carries one in its text."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return isinstance(error, RuntimeError) and ("No space left on device" in str(error) or "File too large" in str(error))


def raise_if_disk_full(error: BaseException, folder: object) -> None:
    """An IndexFolderError saying so when ``error`` is a full disk met while writing an index into ``folder``."""
    if disk_full(error):
        raise IndexFolderError(f"The disk is full ({folder}): the new index could not be written and the previous one "
                               "still answers. Free some space and index again.") from error
