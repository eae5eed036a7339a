"""The index: building (incrementally), loading, and retrieving passages.

An ``Index`` holds the documents as read, their chunks and sentences (offsets into
the documents' text), the chunk vectors in a vector store, sentence vectors for
choosing quotes, and a BM25 index. ``storage`` owns the folder format.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import storage
from .chunk import chunk_document
from .embed import Embedder, load_embedder
from .embed import model_name as _folder_model_name
from .errors import EmptyCorpusError, IndexCorruptError, IndexMismatchError, QAError, rebuild_hint
from .lexical import LexicalIndex
from .read import read_sources
from .retrieve import check_mode, check_question, fuse, single
from .settings import Settings
from .store import FaissStore, VectorStore
from .types import Answer, Document, Passage, Skipped


class SkippedFileWarning(UserWarning):
    """A source file was left out of the index (the message says which and why)."""


@dataclass(frozen=True)
class BuildReport:
    embedded: tuple[str, ...] = ()  # paths chunked and embedded in this build
    reused: tuple[str, ...] = ()  # unchanged paths whose vectors were kept
    removed: tuple[str, ...] = ()  # paths in the previous index but not in this one
    skipped: tuple[Skipped, ...] = ()


@dataclass
class _Part:
    """One document's share of an index (sentence ids local to the document)."""

    document: Document
    title: str
    sentences: np.ndarray  # (m, 2) start, end
    chunks: np.ndarray  # (n, 4) start, end, first sentence, last sentence
    chunk_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))


def model_name(settings: Settings, embedder: Embedder | None) -> str:
    return embedder.name if embedder is not None else _folder_model_name(settings.model_path)


def embedder_fields(settings: Settings, embedder: Embedder | None) -> dict[str, str]:
    """What the manifest records about the vectors' maker; an index is queried only by the same model and backend."""
    return {"model": model_name(settings, embedder), "backend": embedder.backend if embedder is not None else settings.backend}


class Index:
    def __init__(
        self,
        index_dir: Path,
        settings: Settings,
        parts: list[_Part],
        store: VectorStore,
        lexical: LexicalIndex,
        embedder: Embedder | None = None,
        report: BuildReport | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.settings = settings
        self.documents = [part.document for part in parts]
        self.titles = [part.title for part in parts]
        self.store = store
        self.lexical = lexical
        self.report = report or BuildReport()
        self._embedder = embedder
        self._parts = parts
        self._by_path: dict[str, Document] | None = None
        self._chunk_base = np.cumsum([0] + [len(part.chunks) for part in parts])
        sentence_base = np.cumsum([0] + [len(part.sentences) for part in parts])
        self.chunks = _stack([_global_rows(part.chunks, i, int(sentence_base[i])) for i, part in enumerate(parts)], 5)
        self.sentences = _stack([_with_doc(part.sentences, i) for i, part in enumerate(parts)], 3)
        self.sentence_vectors = _stack_vectors([part.sentence_vectors for part in parts])
        if len(self.chunks) != len(store):
            raise IndexCorruptError(f"The index in {index_dir} has {len(store)} vectors for {len(self.chunks)} passages. " + rebuild_hint(index_dir))

    # ----- building and loading -------------------------------------------------

    @classmethod
    def build(
        cls,
        paths: Iterable[str | Path],
        index_dir: str | Path = "index",
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> Index:
        """Index the files and folders in ``paths``; only new or changed files are embedded."""
        settings = settings or Settings()
        index_dir = Path(index_dir)
        with storage.writer_lock(index_dir):
            previous = cls._previous(index_dir, settings, embedder)
            known = {doc.path: doc for doc in previous.documents} if previous else {}
            documents, skipped = read_sources(paths, known)
            for item in skipped:
                warnings.warn(f"skipped {item.path}: {item.reason}", SkippedFileWarning, stacklevel=2)
            if not documents:
                reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped) or "no files found"
                raise EmptyCorpusError(f"Nothing to index ({reasons}). Add .txt, .md, .html or .pdf files and try again.")
            old_parts = {(p.document.path, p.document.sha256): i for i, p in enumerate(previous._parts)} if previous else {}
            kept = [doc for doc in documents if (doc.path, doc.sha256) in old_parts]
            removed = tuple(sorted(set(known) - {doc.path for doc in documents}))
            report = BuildReport(
                embedded=tuple(doc.path for doc in documents if (doc.path, doc.sha256) not in old_parts),
                reused=tuple(doc.path for doc in kept),
                removed=removed,
                skipped=tuple(skipped),
            )
            if previous is not None and not report.embedded and not removed and kept == previous.documents:
                previous.report = report
                return previous
            parts = [
                previous._carry(old_parts[(doc.path, doc.sha256)]) if previous and (doc.path, doc.sha256) in old_parts
                else _chunk(doc, settings)
                for doc in documents
            ]
            if not any(len(part.chunks) for part in parts):
                raise EmptyCorpusError(
                    "Nothing to index: the files hold no sentences, only short lines such as menus or page numbers. "
                    "Add documents with running text and try again."
                )
            embedder = _embed_new(parts, settings, embedder or (previous._embedder if previous else None), progress)
            return cls._assemble(index_dir, settings, parts, embedder, report)

    @classmethod
    def _previous(cls, index_dir: Path, settings: Settings, embedder: Embedder | None) -> Index | None:
        if not (index_dir / storage.CURRENT).exists():
            return None
        try:
            return cls.load(index_dir, settings=settings, embedder=embedder)
        except (IndexMismatchError, IndexCorruptError) as error:
            warnings.warn(f"rebuilding the whole index: {error}", stacklevel=3)
            return None

    def _carry(self, doc: int) -> _Part:
        """A document's part from this index, vectors included, for a rebuild."""
        part = self._parts[doc]
        start = int(self._chunk_base[doc])
        return _Part(part.document, part.title, part.sentences, part.chunks,
                     self.store.vectors(start, start + len(part.chunks)), part.sentence_vectors)

    @classmethod
    def _assemble(cls, index_dir: Path, settings: Settings, parts: list[_Part], embedder: Embedder | None, report: BuildReport) -> Index:
        dim = next((p.chunk_vectors.shape[1] for p in parts if p.chunk_vectors.size), embedder.dim if embedder else 0)
        vectors = np.vstack([p.chunk_vectors.reshape(-1, dim) for p in parts])
        store = FaissStore.build(vectors, dim, settings.ann_threshold)
        lexical = LexicalIndex.build([_lexical_text(p, row) for p in parts for row in p.chunks])
        index = cls(index_dir, settings, parts, store, lexical, embedder, report)
        manifest = {
            **embedder_fields(settings, embedder),
            "dim": dim,
            "settings": settings.manifest_fields(),
            "store": store.kind,
            "counts": {"documents": len(parts), "chunks": len(index.chunks), "sentences": len(index.sentences)},
            "documents": [{"path": p.document.path, "sha256": p.document.sha256, "chunks": len(p.chunks)} for p in parts],
        }
        storage.write_generation(index_dir, manifest, index._write_files)
        return index

    def _write_files(self, folder: Path) -> None:
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as handle:
            for doc, title in zip(self.documents, self.titles):
                row = {"path": doc.path, "source": doc.source, "sha256": doc.sha256, "title": title,
                       "page_starts": list(doc.page_starts), "text": doc.text}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        np.save(folder / "chunks.npy", self.chunks)
        np.save(folder / "sentences.npy", self.sentences)
        np.save(folder / "sentence_vectors.npy", self.sentence_vectors)
        self.store.save(folder)
        self.lexical.save(folder)

    @classmethod
    def load(cls, index_dir: str | Path = "index", *, settings: Settings | None = None, embedder: Embedder | None = None) -> Index:
        """Open a built index; a missing, foreign or damaged one raises an error that says how to rebuild."""
        settings = settings or Settings()
        index_dir = Path(index_dir)
        folder = storage.current_folder(index_dir)
        expected = {**embedder_fields(settings, embedder), "settings": settings.manifest_fields()}
        manifest = storage.read_manifest(folder, index_dir, expected)
        try:
            parts = _read_parts(folder)
            store = FaissStore.load(folder)
            lexical = LexicalIndex.load(folder, len(store))
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as error:
            raise IndexCorruptError(f"The index in {index_dir} cannot be read ({error}). " + rebuild_hint(index_dir)) from error
        if embedder is not None and embedder.dim != manifest.get("dim"):
            raise IndexMismatchError(f"The index in {index_dir} holds {manifest.get('dim')}-dimensional vectors, the model makes {embedder.dim}. " + rebuild_hint(index_dir))
        return cls(index_dir, settings, parts, store, lexical, embedder)

    def document(self, path: str) -> Document | None:
        """The indexed document with this absolute path, if any."""
        if self._by_path is None:
            self._by_path = {doc.path: doc for doc in self.documents}
        return self._by_path.get(path)

    # ----- asking ------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model_path, self.settings.backend, self.settings.device)
        return self._embedder

    def embed_question(self, question: str) -> np.ndarray:
        text = self.embedder.truncate(question)
        return self.embedder.embed([text], batch_size=1, threads=self.settings.retrieval.query_threads)[0]

    def rank(self, question: str, k: int, mode: str | None = None) -> tuple[list[tuple[int, float]], np.ndarray | None]:
        """(chunk id, score) best first, and the question's vector (None in lexical mode)."""
        mode = check_mode(mode or self.settings.retrieval.mode)
        wanted = max(k, self.settings.retrieval.candidates)
        vector = self.embed_question(question) if mode != "lexical" else None
        dense = self.store.search(vector[None, :], wanted) if vector is not None else None
        lexical = self.lexical.search(question, wanted) if mode != "dense" else None
        if dense is not None and lexical is not None:
            hits = fuse((dense[0][0], dense[1][0]), lexical, self.settings.retrieval.dense_weight)
        elif dense is not None:
            hits = single(dense[0][0], dense[1][0])
        else:
            assert lexical is not None
            hits = single(*lexical)
        return hits[:k], vector

    def retrieve(self, question: str, k: int = 5, *, mode: str | None = None) -> list[Passage]:
        """The ``k`` passages that best match the question, best first."""
        if k < 1:
            raise QAError("k must be at least 1.")
        question, _ = check_question(question, self.settings.max_question_chars)
        hits, _ = self.rank(question, k, mode)
        return [self.passage(chunk, score, rank) for rank, (chunk, score) in enumerate(hits, start=1)]

    def passage(self, chunk: int, score: float, rank: int) -> Passage:
        doc_id, start, end = (int(v) for v in self.chunks[chunk, :3])
        doc = self.documents[doc_id]
        return Passage(rank, round(float(score), 6), doc.source, doc.path, start, end, doc.text[start:end],
                       doc.page_at(start), doc.line_at(start))

    def answer(self, question: str, history: Sequence[tuple[str, str]] | None = None) -> Answer:
        """An answer made of verbatim quotes with numbered citations, or a plain abstention."""
        from .answer import answer_question

        return answer_question(self, question, history)


# ----- helpers -----------------------------------------------------------------


def _chunk(doc: Document, settings: Settings) -> _Part:
    chunked = chunk_document(doc.text, doc.source, settings.chunk, doc.page_starts)
    sentences = np.array([(s.start, s.end) for s in chunked.sentences], dtype=np.int64).reshape(-1, 2)
    chunks = np.array(
        [(sentences[a, 0], sentences[b, 1], a, b) for a, b in chunked.chunks], dtype=np.int64
    ).reshape(-1, 4)
    return _Part(doc, chunked.title, sentences, chunks)


def _embed_text(part: _Part, row: np.ndarray) -> str:
    text = part.document.text[row[0] : row[1]]
    return text if text.startswith(part.title) else f"{part.title}\n{text}"


def _lexical_text(part: _Part, row: np.ndarray) -> str:
    return f"{part.title} {part.document.text[row[0] : row[1]]}"


def _embed_new(parts: list[_Part], settings: Settings, embedder: Embedder | None, progress: bool) -> Embedder | None:
    """Embed the chunks and sentences of the parts that have no vectors yet, in one batched pass."""
    new = [p for p in parts if p.chunk_vectors.size == 0 and len(p.chunks)]
    if not new:
        return embedder
    embedder = embedder or load_embedder(settings.model_path, settings.backend, settings.device)
    chunk_texts = [_embed_text(p, row) for p in new for row in p.chunks]
    sentence_texts = [p.document.text[s:e] for p in new for s, e in p.sentences]
    vectors = embedder.embed(chunk_texts + sentence_texts, batch_size=settings.batch_size, progress=progress)
    chunk_vectors, sentence_vectors = vectors[: len(chunk_texts)], vectors[len(chunk_texts) :]
    c = s = 0
    for part in new:
        part.chunk_vectors = chunk_vectors[c : c + len(part.chunks)]
        part.sentence_vectors = sentence_vectors[s : s + len(part.sentences)].astype(np.float16)
        c, s = c + len(part.chunks), s + len(part.sentences)
    return embedder


def _read_parts(folder: Path) -> list[_Part]:
    chunks = np.load(folder / "chunks.npy")
    sentences = np.load(folder / "sentences.npy")
    sentence_vectors = np.load(folder / "sentence_vectors.npy")
    with open(folder / "documents.jsonl", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    # Rows are stored grouped by document, in document order.
    c_bounds = np.searchsorted(chunks[:, 0], np.arange(len(rows) + 1))
    s_bounds = np.searchsorted(sentences[:, 0], np.arange(len(rows) + 1))
    parts: list[_Part] = []
    for i, row in enumerate(rows):
        doc = Document(row["path"], row["source"], row["text"], row["sha256"], tuple(row["page_starts"]))
        local = chunks[c_bounds[i] : c_bounds[i + 1], 1:].copy()
        local[:, 2:] -= s_bounds[i]
        s_slice = slice(s_bounds[i], s_bounds[i + 1])
        parts.append(_Part(doc, row["title"], sentences[s_slice, 1:], local, np.zeros((0, 0), np.float32), sentence_vectors[s_slice]))
    return parts


def _global_rows(chunks: np.ndarray, doc: int, sentence_base: int) -> np.ndarray:
    rows = np.hstack([np.full((len(chunks), 1), doc, dtype=np.int64), chunks])
    rows[:, 3:] += sentence_base
    return rows


def _with_doc(sentences: np.ndarray, doc: int) -> np.ndarray:
    return np.hstack([np.full((len(sentences), 1), doc, dtype=np.int64), sentences])


def _stack(arrays: list[np.ndarray], width: int) -> np.ndarray:
    return np.vstack(arrays).astype(np.int64) if arrays else np.zeros((0, width), dtype=np.int64)


def _stack_vectors(arrays: list[np.ndarray]) -> np.ndarray:
    arrays = [a for a in arrays if a.size]
    return np.vstack(arrays).astype(np.float16) if arrays else np.zeros((0, 0), dtype=np.float16)
