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
from pathlib import Path

import numpy as np

from qa import Index, Settings
from qa.embed import SentenceTransformerEmbedder, load_embedder

from . import scifact
from .common import Config, Section, Table, check_at_least, check_at_most, fmt, stopwatch, write_corpus

DOCUMENTS = 1000
THROUGHPUT_TARGET = 0.90
REINDEX_TARGET_S = 1.0


class RecordingEmbedder:
    """The real embedder; records the texts it is asked to embed and the seconds it spends."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
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


def raw_encode_seconds(model: object, texts: list[str], batch_size: int) -> float:
    """Seconds for plain ``SentenceTransformer.encode`` (normalised, numpy) on ``texts``."""
    with stopwatch() as elapsed:
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)  # type: ignore[attr-defined]
    return elapsed[0]


def run(config: Config) -> Section:
    import torch
    from sentence_transformers import SentenceTransformer

    settings = Settings()
    count = 100 if config.quick else DOCUMENTS
    data = scifact.load(config.eval_dir)
    ids = list(data.texts)[:count]
    scratch = config.scratch("build")
    files = write_corpus(scratch / "docs", ((f"{i}.txt", scifact.document_text(data.titles[i], data.texts[i])) for i in ids))
    threads = os.cpu_count() or 1
    recorder = RecordingEmbedder(load_embedder(settings.model_path))
    raw = SentenceTransformer(settings.model_path, device="cpu")
    warm = [scifact.document_text(data.titles[i], data.texts[i]) for i in list(data.texts)[-64:]]
    recorder.inner.embed(warm, batch_size=settings.batch_size)  # sets torch to all cores, as a build does
    raw.encode(warm, batch_size=settings.batch_size)

    with stopwatch() as build:
        index = Index.build(files, scratch / "index", embedder=recorder)
    chunks, texts = len(index.chunks), recorder.texts
    torch.set_num_threads(threads)
    raw_all = raw_encode_seconds(raw, texts, settings.batch_size)
    raw_chunks = raw_encode_seconds(raw, texts[:chunks], settings.batch_size)

    section = Section("build", "Index build throughput and re-indexing")
    table = Table(f"Building an index of {count:,} SciFact abstracts: {chunks:,} chunks + {len(texts) - chunks:,} "
                  f"sentences embedded, torch threads {threads}, batch {settings.batch_size}",
                  ["what", "seconds", "chunks/s", "texts/s", "ratio to the pipeline"])
    table.add("qa Index.build (read, chunk, embed chunks + sentences, FAISS, BM25, write)", build[0],
              chunks / build[0], len(texts) / build[0], "1.00")
    table.add("  of which embedding (inside Index.build)", recorder.seconds, "", len(texts) / recorder.seconds, "")
    table.add("  of which everything else", build[0] - recorder.seconds, "", "", "")
    table.add("baseline: SentenceTransformer.encode, the same chunk + sentence texts", raw_all,
              chunks / raw_all, len(texts) / raw_all, fmt(raw_all / build[0]))
    table.add("baseline: SentenceTransformer.encode, chunk texts only", raw_chunks,
              chunks / raw_chunks, chunks / raw_chunks, fmt(raw_chunks / build[0]))
    section.tables += [table, reindex_table(files, scratch)]
    ratio = raw_all / build[0]
    section.checks.append(check_at_least(
        "build throughput vs plain encode of the same texts", ratio, THROUGHPUT_TARGET, fmt(ratio),
        f"embedding is {recorder.seconds / build[0]:.0%} of the build; the rest is reading, chunking, BM25 and writing"))
    reindex = float(section.tables[-1].rows[0][1].replace(",", ""))
    section.checks.append(check_at_most(f"re-index an unchanged corpus of {count:,} documents (s)", reindex,
                                        REINDEX_TARGET_S, f"{reindex:.2f} s",
                                        "see the re-index table: loading the previous index and hashing the files"))
    section.notes += [
        f"Chunks-only throughput: the pipeline makes {chunks / build[0]:.1f} chunks/s against {chunks / raw_chunks:.1f} "
        f"for encoding the chunk texts alone ({raw_chunks / build[0]:.0%}): the sentence vectors cost the rest. "
        "They are what makes choosing a quote take under a millisecond at question time instead of 250-400 ms.",
        "Embedding-time figures vary by ±10% when another process shares the 2 cores.",
    ]
    shutil.rmtree(scratch, ignore_errors=True)
    return section


def reindex_table(files: list[Path], scratch: Path) -> Table:
    """Re-indexing the same files: unchanged, in this process and with the CLI; then one file changed."""
    table = Table(f"Re-indexing the same {len(files):,} files", ["what", "seconds", "documents embedded"])
    samples, embedded = [], 0
    for _ in range(3):
        with stopwatch() as elapsed:
            embedded = len(Index.build(files, scratch / "index").report.embedded)
        samples.append(elapsed[0])
    table.add("Index.build, nothing changed (median of 3)", float(np.median(samples)), embedded)
    cli = Path(sys.executable).with_name("qa")
    if cli.exists():
        with stopwatch() as elapsed:
            subprocess.run([str(cli), "index", str(files[0].parent), "--index", str(scratch / "index")],
                           check=True, capture_output=True)
        table.add("`qa index DIR`, nothing changed, new process (imports included)", elapsed[0], 0)
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nOne sentence added to change the file.\n", encoding="utf-8")
    with stopwatch() as elapsed:
        embedded = len(Index.build(files, scratch / "index").report.embedded)
    table.add("Index.build, one file changed", elapsed[0], embedded)
    return table
