"""Building a corpus incrementally: which files changed, reading and chunking them, embedding what is new.

``plan`` reads the sources and compares them with the previous corpus by content
hash; ``chunked`` cuts only the new or changed documents, and ``embed_new`` embeds
them, a window of texts at a time. Both index storages (``stores``) build
through these (``changes`` is the two in a row) and only persist the result;
``carried_parts`` gives a storage that rewrites everything the unchanged documents'
parts, vectors included.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, EmptyCorpusError, SkippedFileWarning, SourceChangedError, SourceError, shown
from ..read.files import FILE_TYPES, content_hash, read_sources
from ..settings import ReadSettings, Settings
from ..types import Document, Skipped
from . import embedding as embed
from .chunk import chunk_document
from .corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Corpus, Part
from .embedding import Embedder
from .vectors import VectorStore


@dataclass(frozen=True)
class BuildReport:
    embedded: tuple[str, ...] = ()  # paths chunked and embedded in this build
    reused: tuple[str, ...] = ()  # unchanged paths whose vectors were kept
    removed: tuple[str, ...] = ()  # paths in the previous index but not in this one
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The documents to index now, and how they differ from the previous corpus."""

    documents: list[Document]
    report: BuildReport
    unchanged: bool  # the same documents, in the same order, with the same contents


def model_name(settings: Settings, embedder: Embedder | None) -> str:
    """The name recorded in the manifest: the embedder's, or the model folder's."""
    return embedder.name if embedder is not None else embed.model_name(settings.model_path)


def embedder_fields(settings: Settings, embedder: Embedder | None) -> dict[str, str]:
    """What the manifest records about the vectors' maker. An index is only queried by the same model
    and backend: int8 ONNX and torch vectors are close (cosine >= 0.99) but not equal, so a backend
    change rebuilds the index rather than mixing the two (bench/results/RESULTS.md, onnx section)."""
    return {"model": model_name(settings, embedder), "backend": embedder.backend if embedder is not None else settings.backend}


def identity(settings: Settings, embedder: Embedder | None) -> dict[str, object]:
    """What a stored index must match to be used: its vectors' maker and the settings that cut its chunks."""
    return {**embedder_fields(settings, embedder), "settings": settings.manifest_fields()}


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


def plan(paths: Iterable[str | Path], previous: Corpus | None, budget: ReadSettings | None = None) -> Plan:
    """Read the sources within ``budget`` (unchanged files are not parsed again) and compare them with ``previous``."""
    known = {doc.path: doc for doc in previous.documents} if previous else {}
    documents, skipped = read_sources(paths, known, budget)
    for item in skipped:
        warnings.warn(f"skipped {item.path}: {item.reason}", SkippedFileWarning, stacklevel=5)  # the caller of Index.build
    if not documents:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped) or "no files found"
        raise EmptyCorpusError(f"Nothing to index ({reasons}). Add {FILE_TYPES} files and try again.")
    old = {(doc.path, doc.sha256) for doc in known.values()}
    report = BuildReport(
        embedded=tuple(doc.path for doc in documents if (doc.path, doc.sha256) not in old),
        reused=tuple(doc.path for doc in documents if (doc.path, doc.sha256) in old),
        removed=tuple(sorted(set(known) - {doc.path for doc in documents})),
        skipped=tuple(skipped),
    )
    unchanged = previous is not None and not report.embedded and not report.removed and tuple(documents) == previous.documents
    return Plan(documents, report, unchanged)


@dataclass(frozen=True)
class Changes:
    """What a build must store: the plan, and the parts of the documents the previous corpus lacks."""

    plan: Plan
    new: list[Part]  # chunked (and embedded, but for ``chunked``), in the plan's order; the stores keep the rest
    embedder: Embedder | None  # the one that embedded them (loaded here when none was given; None from ``chunked``)


def changes(
    paths: Iterable[str | Path],
    previous: Corpus | None,
    settings: Settings,
    embedder: Embedder | None,
    progress: bool = False,
) -> Changes:
    """The build flow both stores share: plan against ``previous``, then chunk and embed only the new documents.

    Nothing is chunked when the plan finds the corpus unchanged."""
    cut = chunked(paths, previous, settings)
    return Changes(cut.plan, cut.new, embed_new(cut.new, settings, embedder, progress))


def chunked(paths: Iterable[str | Path], previous: Corpus | None, settings: Settings) -> Changes:
    """``changes`` without the embedding: the new documents' parts have no vectors yet (and ``embedder`` is None).

    For a store that does other heavy work first (BM25), so that its working memory and the vectors are not
    held at once."""
    planned = plan(paths, previous, settings.read)
    if planned.unchanged:
        return Changes(planned, [], None)
    kept = _chunk_counts(previous) if previous else {}
    new = [chunk(doc, settings) for doc in planned.documents if (doc.path, doc.sha256) not in kept]
    require_sentences(sum(kept.get((doc.path, doc.sha256), 0) for doc in planned.documents) + sum(len(p.chunks) for p in new))
    return Changes(planned, new, None)


def _chunk_counts(corpus: Corpus) -> dict[tuple[str, str], int]:
    return {(doc.path, doc.sha256): int(n) for doc, n in zip(corpus.documents, np.diff(corpus.chunk_starts), strict=True)}


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


def carried_parts(corpus: Corpus, store: VectorStore) -> dict[tuple[str, str], Part]:
    """The previous corpus's parts with their chunk vectors, by (path, sha256): for a store that writes them all again."""
    parts = corpus.parts()
    for doc, part in enumerate(parts):
        start, stop = int(corpus.chunk_starts[doc]), int(corpus.chunk_starts[doc + 1])
        part.chunk_vectors = store.vectors(start, stop)
    return {(part.document.path, part.document.sha256): part for part in parts}


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


def embed_new(parts: list[Part], settings: Settings, embedder: Embedder | None, progress: bool) -> Embedder | None:
    """Embed the chunks (and, with ``Settings.sentence_vectors``, the sentences) of the parts that have no
    vectors yet: the two passes of ``Embedding`` in a row, for a store that keeps the vectors in its rows."""
    embedding = Embedding(parts, settings, embedder, progress)
    embedding.chunks()
    embedding.sentences()
    return embedding.embedder


class Embedding:
    """The new parts' vectors, made ``Settings.embed_window`` texts at a time in two passes under one progress bar:
    chunks (float32), then sentences (float16, half the memory). Between the passes a store can take the chunk
    vectors into its own copy and let the parts' go, so that on a large upload both are never held beside it."""

    def __init__(self, parts: list[Part], settings: Settings, embedder: Embedder | None, progress: bool) -> None:
        self.new = [p for p in parts if not p.embedded]
        self.settings = settings
        self.embedder = embedder
        if self.new and embedder is None:
            self.embedder = embed.load_embedder(settings.model_path, settings.backend, settings.device)
        total = sum(len(p.chunks) + (len(p.sentences) if settings.sentence_vectors else 0) for p in self.new)
        self._bar = embed.progress_bar(total, progress and total > 0)

    def chunks(self) -> None:
        vectors = self._vectors((t for p in self.new for t in p.embed_texts()), sum(len(p.chunks) for p in self.new), np.float32)
        for part, rows in zip(self.new, _split(vectors, [len(p.chunks) for p in self.new]), strict=True):
            part.chunk_vectors = rows

    def sentences(self) -> None:
        if self.settings.sentence_vectors:
            counts = [len(p.sentences) for p in self.new]
            vectors = self._vectors((t for p in self.new for t in p.sentence_texts()), sum(counts), np.float16)
            for part, rows in zip(self.new, _split(vectors, counts), strict=True):
                part.sentence_vectors = rows
        self._bar.close()

    def _vectors(self, texts: Iterator[str], total: int, dtype: type) -> np.ndarray:
        embedder = self.embedder
        if embedder is None:  # no new part: nothing to embed
            return np.zeros((0, 0), dtype=dtype)
        out: np.ndarray = np.empty((total, embedder.dim), dtype=dtype)
        step = self.settings.embed_window
        for first in range(0, total, step):
            window = list(itertools.islice(texts, step))
            out[first : first + len(window)] = embedder.embed(window, batch_size=self.settings.batch_size)
            self._bar.update(len(window))
        return out


def release_freed_memory() -> None:
    """Give the memory freed so far back to the system. glibc keeps freed heap memory for small allocations,
    while the vectors that come next are large ones it maps anew: without this a 20 MiB upload held BM25's
    working memory (200 MB) and the vectors at once. Without glibc's ``malloc_trim`` it does nothing."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)


def _split(rows: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    return np.split(rows, np.cumsum(counts)[:-1]) if counts else []
