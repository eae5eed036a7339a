"""1M vectors of 384 dimensions: exact (flat) search against HNSW, through ``qa.index.vectors.FaissSearch``.

Data: uniform random vectors make approximate search look wrong (no structure, every
neighbour almost equally far), and exact copies make it look perfect. So the 1M vectors
are real MiniLM vectors (SciFact chunks and sentences, ~77k) repeated with noise: each
is a real vector plus Gaussian noise with the real vectors' covariance, scaled so that
a generated vector is as close to its real anchor as a real vector is to its nearest
real neighbour (median cosine). Queries are real SciFact claims, embedded by the model.
Recall@10 is against flat search on the same vectors.
"""

from __future__ import annotations

import os
import statistics

import numpy as np

from qa import Settings
from qa.index.vectors import FaissSearch
from qa.settings import HnswSettings

from . import scifact
from .common import Config, Section, Table, check_at_least, fmt, latencies_ms, p50_p95, rss_mib, stopwatch

VECTORS = 1_000_000
QUERIES = 1000  # for recall
TIMED = 200  # single queries timed for latency
EF_SEARCH = (16, 32, 64, 128, 256)
FLAT_SIZES = (100_000, 200_000, 500_000)
HNSW = HnswSettings()  # the product's defaults
RECALL_TARGET = 0.95


def real_vectors(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """(pool, queries): the SciFact index's chunk and sentence vectors, and embedded claims."""
    index = scifact.build_index(config, scifact.load(config.eval_dir))
    pool = np.vstack([index.dense.vectors(0, len(index.dense)), index.corpus.sentence_vectors.astype(np.float32)])
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    queries = index.embedder.embed(scifact.claims(config.eval_dir)[:QUERIES], batch_size=64)
    return pool, queries


def nearest_cosine(pool: np.ndarray, sample: int = 2000) -> float:
    """Median cosine between a real vector and its nearest other (non-identical) real vector."""
    rng = np.random.default_rng(1)
    store = FaissSearch.build(pool, pool.shape[1], len(pool))
    scores, _ = store.search(pool[rng.choice(len(pool), sample, replace=False)], 5)
    return float(np.median([next((s for s in row if s < 0.9999), row[-1]) for row in scores]))


def generate(pool: np.ndarray, count: int, cosine: float, seed: int = 0) -> np.ndarray:
    """``count`` unit vectors: real anchors plus covariance-shaped noise at the given median cosine."""
    rng = np.random.default_rng(seed)
    factor = np.linalg.cholesky(np.cov(pool, rowvar=False) + 1e-6 * np.eye(pool.shape[1])).astype(np.float32)

    def make(anchors: np.ndarray, scale: float) -> np.ndarray:
        noisy = anchors + scale * (rng.standard_normal(anchors.shape, dtype=np.float32) @ factor.T)
        return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)

    probe = pool[rng.choice(len(pool), 2000)]
    low, high = 0.0, 10.0
    for _ in range(30):  # bisection on the noise scale
        scale = (low + high) / 2
        low, high = (scale, high) if np.median(np.sum(make(probe, scale) * probe, axis=1)) > cosine else (low, scale)
    out = np.empty((count, pool.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(start + 100_000, count)
        out[start:stop] = make(pool[rng.integers(0, len(pool), stop - start)], scale)
    return out


def single_query_ms(store: FaissSearch, queries: np.ndarray) -> list[float]:
    rows = {str(i): queries[i : i + 1] for i in range(min(TIMED + 10, len(queries)))}
    return latencies_ms(lambda i: store.search(rows[i], 10), rows)


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist(), strict=True)]))


def run(config: Config) -> Section:
    import faiss

    count = 100_000 if config.quick else VECTORS
    threads = os.cpu_count() or 1
    pool, queries = real_vectors(config)
    cosine = nearest_cosine(pool)
    with stopwatch() as made:
        data = generate(pool, count, cosine)
    section = Section("scale", f"Scale: {count:,} vectors of {data.shape[1]} dimensions, flat against HNSW")
    table = Table(f"{count:,} vectors, {len(queries)} queries for recall, {TIMED} single queries timed (FAISS single-threaded, "
                  "as FaissSearch.search runs one question)",
                  ["index", "build s", "bytes per vector", "recall@10", "search p50 ms", "search p95 ms"])
    before = rss_mib()
    with stopwatch() as built:
        flat = FaissSearch.build(data, data.shape[1], count)
    flat_mib = rss_mib() - before
    truth = flat.search(queries, 10)[1]  # batch: all threads
    f50, f95 = p50_p95(single_query_ms(flat, queries))
    table.add("flat (IndexFlatIP), exact", built[0], 4 * data.shape[1] + 0.0, "1.000 (reference)", f50, f95)
    del flat
    faiss.omp_set_num_threads(threads)  # FaissSearch.search left it at 1 after single queries
    before = rss_mib()
    with stopwatch() as built:
        hnsw = FaissSearch.build(data, data.shape[1], 0)
    hnsw_mib = rss_mib() - before
    size = faiss.serialize_index(hnsw.index).nbytes / count
    sweep = Table(f"HNSW (M={HNSW.neighbours}, efConstruction={HNSW.ef_construction}): efSearch against recall and latency",
                  ["efSearch", "recall@10", "search p50 ms", "search p95 ms"])
    recalls: dict[int, float] = {}
    for ef in EF_SEARCH:
        hnsw.index.hnsw.efSearch = ef  # type: ignore[attr-defined]
        recalls[ef] = recall_at_10(hnsw.search(queries, 10)[1], truth)
        h50, h95 = p50_p95(single_query_ms(hnsw, queries))
        sweep.add(f"{ef} (default)" if ef == HNSW.ef_search else ef, recalls[ef], h50, h95)
        if ef == HNSW.ef_search:
            table.add(f"HNSW, efSearch {ef} (qa default above {Settings().ann_threshold:,})", built[0], size, recalls[ef], h50, h95)
    section.tables += [table, sweep, flat_sizes_table(data, queries)]
    enough = [ef for ef in EF_SEARCH if recalls[ef] >= RECALL_TARGET]
    section.notes.append(f"Smallest efSearch in the sweep with recall@10 ≥ {RECALL_TARGET}: {enough[0]}." if enough
                         else f"No efSearch in the sweep reaches recall@10 {RECALL_TARGET}.")
    section.checks.append(check_at_least(f"HNSW recall@10 against flat at {count:,} vectors (efSearch {HNSW.ef_search})",
                                         recalls[HNSW.ef_search], RECALL_TARGET, fmt(recalls[HNSW.ef_search]),
                                         "see the efSearch sweep"))
    section.notes += [
        f"Generated in {made[0]:.0f} s from {len(pool):,} real vectors; noise scaled to a median cosine of {cosine:.3f} "
        "to the anchor (the median cosine between a real vector and its nearest real neighbour).",
        f"Memory growth while building: flat {flat_mib:,.0f} MiB, HNSW {hnsw_mib:,.0f} MiB "
        f"(the serialised HNSW index is {size:,.0f} bytes per vector: {4 * data.shape[1]} for the vector, the rest links).",
        f"HNSW is built with {threads} threads (faiss OpenMP); FaissSearch.search sets faiss to 1 thread for a single "
        "question and does not set it back, so a build later in the same process would run on one thread unless reset.",
    ]
    if config.quick:
        section.notes.append("--quick: 100k vectors; not comparable to the 1M target.")
    return section


def flat_sizes_table(data: np.ndarray, queries: np.ndarray) -> Table:
    """Exact search grows linearly with the number of vectors: where the HNSW threshold sits."""
    table = Table("Flat search latency by size (single-threaded, 100 queries)", ["vectors", "search p50 ms", "search p95 ms"])
    for size in FLAT_SIZES:
        if size < len(data):
            store = FaissSearch.build(data[:size], data.shape[1], size)
            samples = single_query_ms(store, queries[:110])
            table.add(size, statistics.median(samples), p50_p95(samples)[1])
    return table
