"""Index build throughput against plain ``SentenceTransformer.encode``, and re-indexing.

The pipeline embeds every chunk (title in front) and every sentence (the sentence
vectors let ``answer`` pick quotes without embedding at question time). The
baseline encodes exactly the texts the pipeline embedded, recorded during the build,
with the raw library in the same process, same batch size and thread count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaldata import write_corpus
from qa import Index, Settings
from qa.index.embedders import load_embedder
from qa.index.embedding import Embedder
from qa.read.files import read_sources

from . import corpora, scifact
from .common import Config, Section, Table, check_at_least, check_at_most, fmt, stopwatch

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

THROUGHPUT_DOCUMENTS = 200  # ~1,000 chunks and ~2,000 sentences: minutes per pass on 2 cores
REINDEX_DOCUMENTS = 1000
THROUGHPUT_TARGET = 0.90
REINDEX_TARGET_S = 1.0


class RecordingEmbedder:
    """The real embedder; records the texts it is asked to embed and the seconds it spends."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.backend, self.dim, self.max_tokens = inner.name, inner.backend, inner.dim, inner.max_tokens
        self.texts: list[str] = []
        self.seconds = 0.0

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False, threads: int | None = None) -> np.ndarray:
        start = time.perf_counter()
        vectors = self.inner.embed(texts, batch_size=batch_size, progress=progress, threads=threads)
        self.seconds += time.perf_counter() - start
        self.texts.extend(texts)
        return vectors

    def truncate(self, text: str) -> str:
        return self.inner.truncate(text)


def raw_encode_seconds(model: SentenceTransformer, texts: list[str], batch_size: int) -> float:
    """Seconds for plain ``SentenceTransformer.encode`` (normalised, numpy) on ``texts``."""
    with stopwatch() as elapsed:
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return elapsed[0]


def run(config: Config) -> Section:
    data = scifact.load(config.eval_dir)
    section = Section("build", "Index build throughput and re-indexing")
    throughput(config, data, section)
    reindex(config, data, section)
    return section


def throughput(config: Config, data: scifact.SciFact, section: Section) -> None:
    """Index.build on fresh files against SentenceTransformer.encode on the texts it embedded."""
    import torch
    from sentence_transformers import SentenceTransformer

    settings = Settings()
    count = 50 if config.quick else THROUGHPUT_DOCUMENTS
    scratch = config.scratch("build")
    ids = list(data.texts)[:count]
    files = write_corpus(scratch / "docs", ((f"{i}.txt", scifact.document_text(data.titles[i], data.texts[i])) for i in ids))
    threads = os.cpu_count() or 1
    recorder = RecordingEmbedder(load_embedder(settings.model_path, settings.backend, settings.device))
    raw = SentenceTransformer(settings.model_path, device="cpu")
    warm = [scifact.document_text(data.titles[i], data.texts[i]) for i in list(data.texts)[-64:]]
    recorder.inner.embed(warm, batch_size=settings.batch_size)
    raw.encode(warm, batch_size=settings.batch_size)
    with stopwatch() as build:
        index = Index.build(files, scratch / "index", embedder=recorder)
    chunks, texts = len(index.chunks), recorder.texts
    torch.set_num_threads(threads)
    raw_all = raw_encode_seconds(raw, texts, settings.batch_size)
    raw_chunks = raw_encode_seconds(raw, texts[:chunks], settings.batch_size)
    shutil.rmtree(scratch, ignore_errors=True)

    table = Table(f"Building an index of {count:,} SciFact abstracts: {chunks:,} chunks + {len(texts) - chunks:,} "
                  f"sentences embedded, {settings.backend} backend, {threads} cores, batch {settings.batch_size}",
                  ["what", "seconds", "chunks/s", "texts/s", "ratio to the pipeline"])
    table.add("qa Index.build (read, chunk, embed chunks + sentences, FAISS, BM25, write)", build[0],
              chunks / build[0], len(texts) / build[0], "1.00")
    table.add("  of which embedding (inside Index.build)", recorder.seconds, "", len(texts) / recorder.seconds, "")
    table.add("  of which everything else", build[0] - recorder.seconds, "", "", "")
    table.add("baseline: SentenceTransformer.encode, the same chunk + sentence texts", raw_all,
              chunks / raw_all, len(texts) / raw_all, fmt(raw_all / build[0]))
    table.add("baseline: SentenceTransformer.encode, chunk texts only", raw_chunks,
              chunks / raw_chunks, chunks / raw_chunks, fmt(raw_chunks / build[0]))
    section.tables.append(table)
    ratio = raw_all / build[0]
    section.checks.append(check_at_least(
        "build throughput vs plain encode of the same texts", ratio, THROUGHPUT_TARGET, fmt(ratio),
        f"embedding is {recorder.seconds / build[0]:.0%} of the build; the rest is reading, chunking, BM25 and writing"))
    section.notes += [
        f"Chunks-only throughput: the pipeline makes {chunks / build[0]:.1f} chunks/s against {chunks / raw_chunks:.1f} "
        f"for encoding the chunk texts alone ({raw_chunks / build[0]:.0%}): the sentence vectors cost the rest. "
        "They are what makes choosing a quote take under a millisecond at question time instead of 250-400 ms.",
        "Both sides embed the same texts in one process with the same batch size and threads, one after the other; "
        "another process using the cores during one of them moves the ratio.",
    ]


def reindex(config: Config, data: scifact.SciFact, section: Section) -> None:
    """Index.build again on an unchanged corpus (a subset of the SciFact index: nothing to embed)."""
    base = scifact.build_index(config, data)
    count = min(REINDEX_DOCUMENTS, len(base.documents) // 2)
    subset = corpora.subset_index(base, count, config.cache_dir / f"reindex-{count}")
    files = [doc.path for doc in subset.documents]
    table = Table(f"Re-indexing {count:,} unchanged SciFact abstracts ({len(subset.chunks):,} chunks)",
                  ["what", "seconds", "documents embedded"])
    samples, embedded = [], 0
    for _ in range(5):
        with stopwatch() as elapsed:
            embedded = len(Index.build(files, subset.index_dir).report.embedded)
        samples.append(elapsed[0])
    seconds = float(np.median(samples))
    table.add("Index.build, nothing changed (median of 5)", seconds, embedded)
    table.add("  Index.load of the previous index, measured alone", median_seconds(lambda: Index.load(subset.index_dir)), "")
    table.add("  reading and hashing the files, measured alone", median_seconds(lambda: read_sources(files)), "")
    cli = Path(sys.executable).with_name("qa")
    if cli.exists():
        with stopwatch() as elapsed:
            subprocess.run([str(cli), "index", *files, "--index", str(subset.index_dir)], check=True, capture_output=True)
        table.add("`qa index FILES`, nothing changed, a new process (imports included)", elapsed[0], 0)
    section.tables.append(table)
    section.checks.append(check_at_most(f"re-index an unchanged corpus of {count:,} documents (s)", seconds,
                                        REINDEX_TARGET_S, f"{seconds:.2f} s",
                                        "loading the previous index and hashing every file (rows above)"))


def median_seconds(call: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        with stopwatch() as elapsed:
            call()
        samples.append(elapsed[0])
    return float(np.median(samples))
