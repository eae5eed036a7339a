"""qa: offline question answering over your own documents, with verbatim quoted citations.

The library API: build or load an ``Index``, then ``retrieve`` passages or ``ask``
for a quoted answer. Errors derive from ``QAError``; the particular ones (and
``SkippedFileWarning``) are in ``qa.errors``. How quotes read on screen is in
``qa.display``; the chat app's own parts live in ``qa.app``.
"""

from .api import Index, ask, open_index, retrieve
from .errors import QAError
from .index.plan import BuildReport, check_source
from .read.files import FILE_TYPES, MAIN_SUFFIXES, SUPPORTED_SUFFIXES, iter_source_files
from .settings import AnswerSettings, ChunkSettings, ReadSettings, RetrievalSettings, Settings
from .types import Answer, Citation, Document, Passage, Skipped

__all__ = [
    "FILE_TYPES",
    "MAIN_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "AnswerSettings",
    "BuildReport",
    "ChunkSettings",
    "Citation",
    "Document",
    "Index",
    "Passage",
    "QAError",
    "ReadSettings",
    "RetrievalSettings",
    "Settings",
    "Skipped",
    "ask",
    "check_source",
    "iter_source_files",
    "open_index",
    "retrieve",
]
