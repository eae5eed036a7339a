"""The index folder: fixed file names, a manifest, atomic replacement and a writer lock.

Layout of ``index_dir``::

    CURRENT                  name of the live generation folder (replaced atomically)
    .lock                    held by the one process writing the index
    gen-<time>-<pid>/        one complete index
        manifest.json        format version, model, dimension, chunk settings, per-document hashes, file sizes
        documents.jsonl      one document per line: path, source, sha256, title, page starts, text
        chunks.npy           table of chunks: doc, start, end, first_sentence, last_sentence (qa.corpus)
        sentences.npy        table of sentences: doc, start, end
        sentence_vectors.npy float16 unit vectors of the sentences (for choosing quotes)
        vectors.faiss        the vector store (chunk vectors)
        bm25/                the bm25s index and its document frequencies

A new index is written into a fresh generation folder and only then named in
CURRENT, so a crash mid-build leaves the previous index loadable. This is the only
module that writes the index folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Corpus
from .errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, rebuild_hint
from .lexical import LexicalIndex
from .store import FaissStore, VectorStore
from .types import Document

FORMAT_VERSION = 2  # 2: chunk and sentence tables with named fields; BM25 document frequencies stored
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
LOCK_WAIT_SECONDS = 2.0


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock; a second writer gets a clear error instead of corrupting it."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))
    try:
        lock.acquire(timeout=LOCK_WAIT_SECONDS)
    except Timeout as error:
        raise IndexLockedError(
            f"Another process is writing the index in {index_dir}. Wait for it to finish, then try again."
        ) from error
    try:
        yield
    finally:
        lock.release()


def current_folder(index_dir: Path) -> Path:
    """The live generation folder, or a clear error when there is none."""
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexMissingError(f"No index in {index_dir}. " + rebuild_hint(index_dir))
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / name
    if not name.startswith("gen-") or os.sep in name or not folder.is_dir():
        raise IndexCorruptError(f"The index in {index_dir} names a missing folder. " + rebuild_hint(index_dir))
    return folder


def write_index(index_dir: Path, manifest: dict[str, Any], corpus: Corpus, store: VectorStore, lexical: LexicalIndex) -> Path:
    """Write a complete new generation of the index and make it the live one."""

    def write_files(folder: Path) -> None:
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as handle:
            for doc, title in zip(corpus.documents, corpus.titles):
                row = {"path": doc.path, "source": doc.source, "sha256": doc.sha256, "title": title,
                       "page_starts": list(doc.page_starts), "text": doc.text}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        np.save(folder / "chunks.npy", corpus.chunks)
        np.save(folder / "sentences.npy", corpus.sentences)
        np.save(folder / "sentence_vectors.npy", corpus.sentence_vectors)
        store.save(folder)
        lexical.save(folder)

    return write_generation(index_dir, manifest, write_files)


def read_index(folder: Path, index_dir: Path) -> tuple[Corpus, FaissStore, LexicalIndex]:
    """The corpus, vector store and lexical index of a generation folder (its manifest already checked)."""
    try:
        with open(folder / "documents.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        documents = tuple(Document(r["path"], r["source"], r["text"], r["sha256"], tuple(r["page_starts"])) for r in rows)
        corpus = Corpus(documents, tuple(r["title"] for r in rows), np.load(folder / "chunks.npy"),
                        np.load(folder / "sentences.npy"), np.load(folder / "sentence_vectors.npy"))
        store = FaissStore.load(folder)
        lexical = LexicalIndex.load(folder, len(store))
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as error:
        raise IndexCorruptError(f"The index in {index_dir} cannot be read ({error}). " + rebuild_hint(index_dir)) from error
    if corpus.chunks.dtype != CHUNK_FIELDS or corpus.sentences.dtype != SENTENCE_FIELDS:
        raise IndexCorruptError(f"The index tables in {index_dir} have an unknown layout. " + rebuild_hint(index_dir))
    if len(corpus.chunks) != len(store):
        raise IndexCorruptError(f"The index in {index_dir} has {len(store)} vectors for {len(corpus.chunks)} passages. " + rebuild_hint(index_dir))
    return corpus, store, lexical


def write_generation(index_dir: Path, manifest: dict[str, Any], write_files: Callable[[Path], None]) -> Path:
    """Write a complete new index, then switch CURRENT to it and delete older generations."""
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    folder = index_dir / name
    folder.mkdir(parents=True)
    try:
        write_files(folder)
        manifest = {**manifest, "format": FORMAT_VERSION, "files": _file_sizes(folder)}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _fsync_tree(folder)
        pointer_tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
        pointer_tmp.write_text(name, encoding="utf-8")
        os.replace(pointer_tmp, index_dir / CURRENT)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    for old in index_dir.glob("gen-*"):
        if old.name != name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return folder


def read_manifest(folder: Path, index_dir: Path, expected: dict[str, Any]) -> dict[str, Any]:
    """The manifest, checked against this program's format, model and settings, and the files on disk."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index manifest in {index_dir} is unreadable. " + rebuild_hint(index_dir)) from error
    for key, wanted in {"format": FORMAT_VERSION, **expected}.items():
        found = manifest.get(key)
        if found != wanted:
            raise IndexMismatchError(
                f"The index in {index_dir} was built with {key}={found!r}, but this program uses {wanted!r}. "
                + rebuild_hint(index_dir)
            )
    files = manifest.get("files")
    if not isinstance(files, dict) or files != _file_sizes(folder):
        raise IndexCorruptError(f"The index files in {index_dir} are missing or damaged. " + rebuild_hint(index_dir))
    return manifest


def _file_sizes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
