"""qa: offline question answering over your own documents, with verbatim quoted citations."""

from .api import ask, open_index, retrieve
from .errors import (
    EmptyCorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    ModelError,
    QAError,
    QuestionError,
    SourceError,
)
from .index import BuildReport, Index, SkippedFileWarning
from .settings import AnswerSettings, ChunkSettings, RetrievalSettings, Settings
from .types import Answer, Citation, Document, Passage, Skipped

__all__ = [
    "Answer",
    "AnswerSettings",
    "BuildReport",
    "ChunkSettings",
    "Citation",
    "Document",
    "EmptyCorpusError",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "ModelError",
    "Passage",
    "QAError",
    "QuestionError",
    "RetrievalSettings",
    "Settings",
    "Skipped",
    "SkippedFileWarning",
    "SourceError",
    "ask",
    "open_index",
    "retrieve",
]
