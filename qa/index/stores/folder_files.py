"""The index folder: fixed file names, a manifest, atomic replacement and a writer lock.

Layout of ``index_dir``::

    CURRENT                  name of the live generation folder (replaced atomically)
    .lock                    held by the one process writing the index
    gen-<time>-<pid>/        one complete index
        manifest.json        format version, model, dimension, chunk settings, per-document hashes,
                             the size and xxh3-128 checksum of every other file (checked on load)
        documents.jsonl      one document per line: path, source, sha256, title, page starts, text,
                             and its structure: the reader's title, heading paths, blocks
        chunks.npy           table of chunks: doc, start, end, first_sentence, last_sentence (qa.index.corpus)
        sentences.npy        table of sentences: doc, start, end
        sentence_vectors.npy float16 unit vectors of the sentences (for choosing quotes)
        vectors.faiss        the vector store (chunk vectors)
        bm25/                the bm25s index (document frequencies read from its score matrix)

A new index is written into a fresh generation folder and only then named in CURRENT, so a crash mid-build
leaves the previous index loadable. This is the only module that writes the index folder.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import (
    ArgumentError,
    IndexCorruptError,
    IndexFolderError,
    IndexMissingError,
    raise_if_disk_full,
    rebuild_hint,
    shown,
)
from ...settings import HnswSettings
from ...types import Document
from ..corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Corpus
from ..lexical import LexicalIndex
from ..vectors import FaissSearch
from . import manifest as manifests

FORMAT_VERSION = 3  # 2: named table fields, BM25 document frequencies; 3: a checksum per file in the manifest
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
TEXT_SLICE = 2**20  # characters of a document's text escaped at a time for documents.jsonl
CHECKSUM = "xxh3_128"  # checked on every load: 15-18% of Index.load; sha256 would be 60-70% (bench/results/ROBUSTNESS.md)


def index_path(index_dir: object) -> Path:
    """``index_dir`` as a Path, or an ArgumentError when it is not a path at all."""
    if isinstance(index_dir, bytes):
        index_dir = os.fsdecode(index_dir)
    if not isinstance(index_dir, (str, os.PathLike)) or not str(index_dir).strip() or "\x00" in str(index_dir):
        raise ArgumentError(f"index_dir must be the path of the index folder, such as \"index\"; got {shown(index_dir)}.")
    return Path(index_dir)


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock; a second writer gets a clear error instead of corrupting it."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(index_dir / LOCK))
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=manifests.LOCK_WAIT_SECONDS)
    except Timeout as error:
        raise manifests.locked(str(index_dir)) from error
    except OSError as error:  # a file, /dev/null, a read-only or impossible path
        raise IndexFolderError(
            f"Cannot use {index_dir} as the index folder ({_reason(error)}). Choose a folder with --index."
        ) from error
    try:
        yield
    finally:
        lock.release()


def current_folder(index_dir: Path) -> Path:
    """The live generation folder, or a clear error when there is none or CURRENT is damaged."""
    pointer = index_dir / CURRENT
    if not pointer.exists() and not pointer.is_symlink():
        raise IndexMissingError(f"No index in {index_dir}. " + rebuild_hint(index_dir))
    try:
        name = read_regular(pointer).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise IndexCorruptError(f"The index pointer {pointer} is unreadable ({_reason(error)}). " + rebuild_hint(index_dir)) from error
    folder = index_dir / name
    if not name.startswith("gen-") or "/" in name or os.sep in name or "\x00" in name or not folder.is_dir():
        raise IndexCorruptError(f"The index in {index_dir} names a missing folder. " + rebuild_hint(index_dir))
    return folder


def write_index(index_dir: Path, manifest: dict[str, Any], corpus: Corpus, store: FaissSearch, lexical: LexicalIndex) -> Path:
    """Write a complete new generation of the index and make it the live one."""

    def write_files(folder: Path) -> None:
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as handle:
            for doc, title in zip(corpus.documents, corpus.titles, strict=True):
                row = {"path": doc.path, "source": doc.source, "sha256": doc.sha256, "title": title,
                       "page_starts": list(doc.page_starts), **doc.structure()}
                _write_row(handle, row, doc.text)
        np.save(folder / "chunks.npy", corpus.chunks)
        np.save(folder / "sentences.npy", corpus.sentences)
        np.save(folder / "sentence_vectors.npy", corpus.sentence_vectors)
        store.save(folder)
        lexical.save(folder)

    return write_generation(index_dir, manifest, write_files)


def _write_row(handle: Any, row: dict[str, Any], text: str) -> None:
    """One JSON line: ``row``, then ``text`` escaped a slice at a time (json.dumps of a 20 MiB text held two more
    copies, 80 MB, at the build's peak); escaping is per character, so the slices join into json.dumps's string."""
    handle.write(json.dumps(row, ensure_ascii=False)[:-1] + (", " if row else "") + '"text": "')
    for start in range(0, len(text), TEXT_SLICE):
        handle.write(json.dumps(text[start : start + TEXT_SLICE], ensure_ascii=False)[1:-1])
    handle.write('"}\n')


def read_index(folder: Path, index_dir: Path, hnsw: HnswSettings) -> tuple[Corpus, FaissSearch, LexicalIndex]:
    """The corpus, vector store and lexical index of a generation folder (its manifest already checked)."""
    try:
        with open(folder / "documents.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        documents = tuple(_document(r) for r in rows)
        corpus = Corpus(documents, tuple(r["title"] for r in rows), np.load(folder / "chunks.npy"),
                        np.load(folder / "sentences.npy"), np.load(folder / "sentence_vectors.npy"))
        store = FaissSearch.load(folder, hnsw)
        lexical = LexicalIndex.load(folder, len(store))
    except (OSError, ValueError, KeyError, IndexError, RuntimeError, TypeError, AttributeError) as error:
        raise IndexCorruptError(f"The index in {index_dir} cannot be read ({_reason(error)}). " + rebuild_hint(index_dir)) from error
    if corpus.chunks.dtype != CHUNK_FIELDS or corpus.sentences.dtype != SENTENCE_FIELDS:
        raise IndexCorruptError(f"The index tables in {index_dir} have an unknown layout. " + rebuild_hint(index_dir))
    if len(corpus.chunks) != len(store):
        raise IndexCorruptError(f"The index in {index_dir} has {len(store)} vectors for {len(corpus.chunks)} passages. "
                                + rebuild_hint(index_dir))
    return corpus, store, lexical


def _document(row: dict[str, Any]) -> Document:
    structure = {key: row[key] for key in ("doc_title", "sections", "blocks")}
    return Document.from_stored(row["path"], row["source"], row["text"], row["sha256"], row["page_starts"], structure)


def write_generation(index_dir: Path, manifest: dict[str, Any], write_files: Callable[[Path], None]) -> Path:
    """Write a complete new index, then switch CURRENT to it and delete older generations."""
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    folder = index_dir / name
    try:
        folder.mkdir(parents=True)
    except OSError as error:
        raise IndexFolderError(f"Cannot write the index in {index_dir} ({_reason(error)}). Choose another folder with --index.") from error
    try:
        write_files(folder)
        manifest = {**manifest, "format": FORMAT_VERSION, "files": file_digests(folder)}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _fsync_tree(folder)
        pointer = index_dir / CURRENT
        if pointer.is_dir() and not pointer.is_symlink():  # a damaged index: CURRENT turned into a folder
            shutil.rmtree(pointer)
        pointer_tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
        pointer_tmp.write_text(name, encoding="utf-8")
        os.replace(pointer_tmp, pointer)
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise_if_disk_full(error, index_dir)
        raise
    for old in index_dir.glob("gen-*"):
        if old.name != name and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    return folder


def remove_stale(index_dir: Path) -> list[str]:
    """Delete what killed builds left behind: generation folders CURRENT does not name, pointer temp files.

    Only call this while holding the writer lock: then no other process is writing a
    generation, so every folder but the live one is a leftover. When CURRENT is
    damaged nothing is deleted (the rebuild that follows removes the rest).
    """
    try:
        live: str | None = current_folder(index_dir).name
    except IndexMissingError:
        live = None  # no index yet: every generation folder is a leftover of a killed first build
    except IndexCorruptError:
        return []
    removed = []
    for path in sorted(index_dir.glob("gen-*")):
        if path.name != live and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    for path in index_dir.glob(f".{CURRENT}.*.tmp"):
        path.unlink(missing_ok=True)
    return removed


def read_manifest(folder: Path, index_dir: Path, expected: manifests.Manifest) -> dict[str, Any]:
    """The manifest, checked against this program's format, model and settings, and the files on disk."""
    try:
        manifest = json.loads(read_regular(folder / MANIFEST).decode("utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"The index manifest in {index_dir} is unreadable. " + rebuild_hint(index_dir)) from error
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"The index manifest in {index_dir} is not a manifest (a JSON object). " + rebuild_hint(index_dir))
    manifests.check(manifest, expected, FORMAT_VERSION, str(index_dir))
    check_files(folder, index_dir, manifest.get("files"))
    return manifest


def contents(corpus: Corpus) -> dict[str, Any]:
    """What the folder's manifest records of the corpus beside the shared fields: counts, each document's hash."""
    return {
        "counts": {"documents": len(corpus.documents), "chunks": len(corpus.chunks), "sentences": len(corpus.sentences)},
        "documents": [
            {"path": doc.path, "sha256": doc.sha256, "chunks": int(corpus.chunk_starts[i + 1] - corpus.chunk_starts[i])}
            for i, doc in enumerate(corpus.documents)
        ],
    }


def check_files(folder: Path, index_dir: Path, recorded: object) -> None:
    """Every index file is there with the size and checksum the manifest recorded (sizes first: cheap)."""
    damaged = IndexCorruptError(f"The index files in {index_dir} are missing or damaged. " + rebuild_hint(index_dir))
    if not isinstance(recorded, dict) or not all(isinstance(entry, dict) for entry in recorded.values()):
        raise damaged
    try:
        sizes = {name: path.stat().st_size for name, path in _index_files(folder)}
    except OSError as error:
        raise damaged from error
    if sizes != {name: entry.get("bytes") for name, entry in recorded.items()}:
        raise damaged
    if file_digests(folder) != recorded:
        raise damaged


def file_digests(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and checksum of every index file (the manifest aside), by path relative to the folder."""
    import xxhash

    digests: dict[str, dict[str, Any]] = {}
    for name, path in _index_files(folder):
        digest = xxhash.xxh3_128()
        with open(path, "rb") as handle:
            while block := handle.read(2**22):
                digest.update(block)
        digests[name] = {"bytes": path.stat().st_size, CHECKSUM: digest.hexdigest()}
    return digests


def _index_files(folder: Path) -> list[tuple[str, Path]]:
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    ]


def read_regular(path: Path, limit: int = 2**26) -> bytes:
    """A small index file's bytes, refused unless it is a regular file: opened without blocking, so a FIFO or a
    device put in its place is an error, never a hang (``limit`` bytes at most)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, "far larger than an index file of this kind")
    return data


def _reason(error: BaseException) -> str:
    """The first line of an error's message (FAISS's are several lines long)."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
