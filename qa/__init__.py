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
from .library import Library, SourceFile
from .service import Change, Reply, Service, SourceRow
from .settings import AnswerSettings, ChunkSettings, RetrievalSettings, Settings
from .types import Answer, Citation, Document, Passage, Skipped

__all__ = [
    "Answer",
    "AnswerSettings",
    "BuildReport",
    "Change",
    "ChunkSettings",
    "Citation",
    "Document",
    "EmptyCorpusError",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "Library",
    "ModelError",
    "Passage",
    "QAError",
    "QuestionError",
    "Reply",
    "RetrievalSettings",
    "Service",
    "Settings",
    "Skipped",
    "SkippedFileWarning",
    "SourceFile",
    "SourceError",
    "SourceRow",
    "ask",
    "open_index",
    "retrieve",
]
