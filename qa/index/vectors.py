"""The vector store: exact or approximate inner-product search over unit vectors.

``VectorSearch`` is the interface the rest of the package uses; ``FaissSearch`` is
the embedded default. A store for a distributed engine only has to implement the
same few methods. FAISS searches exactly (flat) up to ``ann_threshold`` vectors
and switches to HNSW above it (recall@10 against flat: see bench/results/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import faiss

from ..settings import HnswSettings

STORE_FILE = "vectors.faiss"


class VectorSearch(Protocol):
    kind: str

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (len(queries), k); missing hits have id -1."""
        ...

    def score(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The exact inner products of one query with the stored vectors ``ids`` (chunks another search found)."""
        ...

    def vectors(self, start: int, stop: int) -> np.ndarray:
        """The stored vectors with ids start..stop-1 (to carry unchanged documents into a rebuild)."""
        ...


class FaissSearch:
    def __init__(self, index: faiss.Index, hnsw: HnswSettings | None = None) -> None:
        import faiss

        self._faiss = faiss
        self.index = index
        self.kind = "flat"
        if isinstance(index, faiss.IndexHNSWFlat):
            self.kind = "hnsw"
            index.hnsw.efSearch = (hnsw or HnswSettings()).ef_search

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int, ann_threshold: int, hnsw: HnswSettings | None = None) -> FaissSearch:
        import faiss

        hnsw = hnsw or HnswSettings()
        index: faiss.Index
        if len(vectors) > ann_threshold:
            graph = faiss.IndexHNSWFlat(dim, hnsw.neighbours, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = hnsw.ef_construction
            index = graph
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            with omp_threads(faiss, _cpu_count()):  # building wants every core
                index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, hnsw)

    @classmethod
    def load(cls, folder: Path, hnsw: HnswSettings | None = None) -> FaissSearch:
        import faiss

        return cls(faiss.read_index(str(folder / STORE_FILE)), hnsw)

    def save(self, folder: Path) -> None:
        self._faiss.write_index(self.index, str(folder / STORE_FILE))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        # One query at a time is 2-3x faster single-threaded (no OpenMP start-up).
        with omp_threads(self._faiss, 1 if len(queries) == 1 else _cpu_count()):
            scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def score(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        stored = self.index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))
        return np.asarray(stored, dtype=np.float32) @ np.asarray(query, dtype=np.float32)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        if stop <= start:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.index.reconstruct_n(start, stop - start), dtype=np.float32)


@contextmanager
def omp_threads(faiss: Any, threads: int) -> Iterator[None]:
    """FAISS's OpenMP thread count for one call, then back to what it was.

    libgomp keeps the count per OS thread (measured: a count set in one thread is not seen
    by another), so this changes only the calling thread, and only for the call: a
    question's single-threaded search never leaves its thread, or a build, on one thread.
    """
    before = faiss.omp_get_max_threads()
    if before != threads:
        faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        if before != threads:
            faiss.omp_set_num_threads(before)


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
