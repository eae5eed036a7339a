"""qa: offline question answering over your own documents, with verbatim quoted citations.

The library API: build or load an ``Index``, then ``retrieve`` passages or ``ask``
for a quoted answer. The chat app's own parts live in ``qa.app``.
"""

from .api import Index, ask, open_index, retrieve
from .errors import (
    ArgumentError,
    EmptyCorpusError,
    IndexCorruptError,
    IndexFolderError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    ModelError,
    QAError,
    QuestionError,
    SourceError,
    StoreError,
)
from .index.build import BuildReport, SkippedFileWarning, check_source
from .read.files import SUPPORTED_SUFFIXES
from .settings import AnswerSettings, ChunkSettings, ReadSettings, RetrievalSettings, Settings
from .types import Answer, Citation, Document, Passage, Skipped

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Answer",
    "AnswerSettings",
    "ArgumentError",
    "BuildReport",
    "ChunkSettings",
    "Citation",
    "Document",
    "EmptyCorpusError",
    "Index",
    "IndexCorruptError",
    "IndexFolderError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "ModelError",
    "Passage",
    "QAError",
    "QuestionError",
    "ReadSettings",
    "RetrievalSettings",
    "Settings",
    "Skipped",
    "SkippedFileWarning",
    "SourceError",
    "StoreError",
    "ask",
    "check_source",
    "open_index",
    "retrieve",
]
