"""Which files changed since the committed index, and the new documents read and chunked.

``plan`` reads the sources and compares them with the previous corpus by content hash;
``chunked`` cuts only the new or changed documents into sentences and chunks. The build flow
(``qa.index.build``) embeds them and hands them to a store.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ArgumentError, EmptyCorpusError, SkippedFileWarning, SourceChangedError, SourceError, shown
from ..read.files import FILE_TYPES, content_hash, read_sources
from ..settings import ReadSettings, Settings
from ..types import Document, Skipped
from .chunk import chunk_document
from .corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Part


@dataclass(frozen=True)
class BuildReport:
    embedded: tuple[str, ...] = ()  # paths chunked and embedded in this build
    reused: tuple[str, ...] = ()  # unchanged paths whose vectors were kept
    removed: tuple[str, ...] = ()  # paths in the previous index but not in this one
    skipped: tuple[Skipped, ...] = ()


class Committed(Protocol):
    """What planning asks of the committed index: its documents (a database's come without their text: only the
    paths and hashes are compared) and how many chunks each has."""

    @property
    def documents(self) -> tuple[Document, ...]: ...

    def chunk_counts(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class Listed:
    """A ``Committed`` read as a list (one row per document, none per chunk): what a database's writer holds."""

    documents: tuple[Document, ...]
    counts: dict[str, int]

    def chunk_counts(self) -> dict[str, int]:
        return self.counts


@dataclass(frozen=True)
class Plan:
    """The documents to index now, and how they differ from the previous corpus."""

    documents: list[Document]
    report: BuildReport
    unchanged: bool  # the same documents, in the same order, with the same contents
    scope: frozenset[str] | None = None  # the files and folders this build speaks for (None: the whole index)


def check_paths(paths: object) -> list[str | Path]:
    """The files and folders to index as a list; one path alone is taken as a list of one."""
    if isinstance(paths, (str, os.PathLike)):
        return [paths if isinstance(paths, str) else Path(paths)]
    if isinstance(paths, (bytes, Mapping)) or not isinstance(paths, Iterable):
        raise ArgumentError(f"paths must be a list of files and folders, such as [\"seeds\"]; got {shown(paths)}.")
    paths = list(paths)
    for path in paths:
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise ArgumentError(f"Each path to index must be a file or folder name; got {shown(path)}.")
    return paths


def check_source(path: str | Path, budget: ReadSettings | None = None) -> None:
    """Raise a SourceError saying why the file at ``path`` cannot be indexed (type, kind, encoding, no text, size)."""
    _, skipped = read_sources([path], budget=budget)
    if skipped:
        raise SourceError(skipped[0].reason)


def plan(paths: Iterable[str | Path], previous: Committed | None, budget: ReadSettings | None = None,
         scope: frozenset[str] | None = None) -> Plan:
    """Read the sources within ``budget`` (unchanged files are not parsed again) and compare them with ``previous``;
    with a ``scope`` (absolute files and folders), previous documents outside it stay (the new ones come after)."""
    known = {doc.path: doc for doc in previous.documents} if previous else {}
    documents, skipped = read_sources(paths, known, budget)
    for item in skipped:
        warnings.warn(f"skipped {item.path}: {item.reason}", SkippedFileWarning, stacklevel=5)  # the caller of Index.build
    if not documents:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped) or "no files found"
        raise EmptyCorpusError(f"Nothing to index ({reasons}). Add {FILE_TYPES} files and try again.")
    old = {(doc.path, doc.sha256) for doc in known.values()}
    if scope is not None:
        read = {doc.path: doc for doc in documents}
        documents = [read.pop(doc.path, doc) for doc in known.values() if doc.path in read or not within(doc.path, scope)]
        documents += read.values()
    report = BuildReport(
        embedded=tuple(doc.path for doc in documents if (doc.path, doc.sha256) not in old),
        reused=tuple(doc.path for doc in documents if (doc.path, doc.sha256) in old),
        removed=tuple(sorted(set(known) - {doc.path for doc in documents})),
        skipped=tuple(skipped),
    )
    unchanged = previous is not None and not report.embedded and not report.removed and tuple(documents) == previous.documents
    return Plan(documents, report, unchanged, scope)


def resolved_scope(scope: Iterable[str | Path] | None) -> frozenset[str] | None:
    """The files and folders of a build's scope as absolute paths, the way documents' paths are written."""
    return None if scope is None else frozenset(str(Path(path).resolve()) for path in check_paths(scope))


def within(path: str, scope: frozenset[str]) -> bool:
    """Is the document at ``path`` one of ``scope``'s files, or in one of its folders?"""
    return any(path == item or path.startswith(item.rstrip(os.sep) + os.sep) for item in scope)


@dataclass(frozen=True)
class Changes:
    """What a build must store: the plan, and the new documents' parts (chunked, not embedded yet)."""

    plan: Plan
    new: list[Part]  # in the plan's order; the committed index keeps the rest


def chunked(paths: Iterable[str | Path], previous: Committed | None, settings: Settings,
            scope: frozenset[str] | None = None) -> Changes:
    """Plan against ``previous``, then chunk only the documents it lacks (nothing when the corpus is unchanged)."""
    planned = plan(paths, previous, settings.read, scope)
    if planned.unchanged:
        return Changes(planned, [])
    kept = _chunk_counts(previous) if previous else {}
    new = [chunk(doc, settings) for doc in planned.documents if (doc.path, doc.sha256) not in kept]
    require_sentences(sum(kept.get((doc.path, doc.sha256), 0) for doc in planned.documents) + sum(len(p.chunks) for p in new))
    return Changes(planned, new)


def _chunk_counts(committed: Committed) -> dict[tuple[str, str], int]:
    counts = committed.chunk_counts()
    return {(doc.path, doc.sha256): counts[doc.path] for doc in committed.documents}


def check_unchanged(parts: list[Part]) -> None:
    """Raise SourceChangedError when a file read for this build no longer holds the bytes it was read with (it was
    edited while it was being embedded): the store must not commit old text whose offsets point into the new file."""
    for part in parts:
        path = Path(part.document.path)
        try:
            same = content_hash(path.suffix, path.read_bytes()) == part.document.sha256
        except OSError:
            same = False
        if not same:
            raise SourceChangedError(f"{path} changed while it was being indexed; the index was left as it was. "
                                     "Index again once the file is saved.")


def require_sentences(chunks: int) -> None:
    """A clear error when the documents to index hold no chunk at all."""
    if not chunks:
        raise EmptyCorpusError(
            "Nothing to index: the files hold no sentences, only short lines such as menus or page numbers. "
            "Add documents with running text and try again."
        )


def chunk(doc: Document, settings: Settings) -> Part:
    """A document cut into sentences and chunks (not embedded yet)."""
    chunked = chunk_document(doc.text, doc.source, settings.chunk, doc.page_starts, doc.blocks, doc.title)
    sentences = np.zeros(len(chunked.sentences), SENTENCE_FIELDS)
    sentences["start"] = [s.start for s in chunked.sentences]
    sentences["end"] = [s.end for s in chunked.sentences]
    sentences["code"] = chunked.code or False
    chunks = np.zeros(len(chunked.chunks), CHUNK_FIELDS)
    first = np.array([a for a, _ in chunked.chunks], dtype=np.int64)
    last = np.array([b for _, b in chunked.chunks], dtype=np.int64)
    chunks["first_sentence"], chunks["last_sentence"] = first, last
    chunks["start"], chunks["end"] = sentences["start"][first], sentences["end"][last]
    return Part(doc, chunked.title, sentences, chunks)
