"""Query latency of ``retrieve`` and ``answer`` at 1k, 10k and 100k chunks, and where the time goes.

Questions are SciFact claims (short, real). Each figure is over 200 questions after
10 warm-up calls, single process, ``query_threads`` as set (default 1). The stage
rows time the pieces of ``Index.rank`` separately on the same questions: embedding
the question, FAISS, BM25, fusion. Memory is read in a fresh process per index.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from qa import Index, RetrievalSettings, Settings
from qa.index.lexical import split, stems
from qa.retrieval.retriever import fuse

from . import corpora, probe, scifact
from .common import Config, Section, Table, check_at_most, latencies_ms, p50_p95

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

SIZES = (1_000, 10_000)  # real text and real vectors (SciFact abstracts)
SYNTHETIC = 100_000  # SciFact text plus sampled sentences, random vectors
QUERIES = 200
TARGETS = {("retrieve", 10_000): 30.0, ("retrieve", 100_000): 60.0, ("answer", 10_000): 150.0}


def run(config: Config) -> Section:
    data = scifact.load(config.eval_dir)
    base = scifact.build_index(config, data)
    questions = list(data.queries.values())[: 60 if config.quick else QUERIES + 10]
    sizes = (1_000,) if config.quick else SIZES
    synthetic = 20_000 if config.quick else SYNTHETIC
    folders = {n: config.cache_dir / f"latency-{n // 1000}k" for n in sizes}
    for n, folder in folders.items():
        corpora.subset_index(base, corpora.documents_for_chunks(base, n), folder)
    folders[synthetic] = corpora.synthetic_index(config, data, synthetic)

    section = Section("latency", "Query latency and memory")
    latency = Table(f"Latency in ms over {len(questions) - 10} questions (p50 / p95), query_threads=1",
                    ["chunks", "vectors", "retrieve p50", "retrieve p95", "answer p50", "answer p95"])
    stages = Table("Where retrieve's time goes: ms per stage, p50 / p95, same questions; the baseline is the raw library "
                   "call (SentenceTransformer.encode of the question, 1 torch thread)",
                   ["chunks", "embed question", "baseline: raw encode", "FAISS search (100)", "BM25 search (100)", "fusion",
                    "answer minus retrieve (p50)"])
    memory = Table("Memory of a fresh process that loads the index and answers one question (RSS, MiB)",
                   ["chunks", "after import", "after Index.load", "index alone", "after model load", "after first answer"])
    results: dict[tuple[str, int], float] = {}
    reasons: dict[int, str] = {}
    for size, folder in folders.items():
        index = Index.load(folder)
        kind = "random" if size == synthetic else "MiniLM"
        chunks = len(index.chunks)
        retrieve_ms = latencies_ms(partial(index.retrieve, k=5), questions)
        answer_ms = latencies_ms(index.answer, questions)
        (r50, r95), (a50, a95) = p50_p95(retrieve_ms), p50_p95(answer_ms)
        results[("retrieve", size)], results[("answer", size)] = r95, a95
        latency.add(chunks, kind, r50, r95, a50, a95)
        timings = stage_timings(index, questions)
        stages.add(chunks, *(f"{p50:.1f} / {p95:.1f}" for p50, p95 in timings.values()), a50 - r50)
        reasons[size] = limit_reason(timings)
        mem = probe.measure(folder, questions[0])
        memory.add(chunks, mem.rss_import_mib, mem.rss_load_mib, mem.index_mib, mem.rss_model_mib, mem.rss_answer_mib)
    middle = max(sizes)
    threads = threads_table(folders[middle], questions)
    section.tables += [latency, stages, threads, memory, profile_table(Index.load(folders[middle]), questions[:50])]
    reasons[middle] += f"; with query_threads=2, retrieve p95 is {threads.rows[1][2]} ms"
    measured = {10_000: middle, 100_000: synthetic}  # --quick measures smaller sizes in their place
    for (what, size), target in TARGETS.items():
        value = results[(what, measured[size])]
        section.checks.append(check_at_most(f"{what} p95 at {measured[size]:,} chunks (ms)", value, target,
                                            f"{value:.1f} ms", reasons[measured[size]]))
    section.notes += [
        f"The {synthetic:,}-chunk index holds the {len(data.texts):,} SciFact abstracts plus documents of SciFact sentences "
        "drawn at random, with random unit vectors (flat search costs the same for any vectors); questions are embedded "
        "by the real model, so its retrieve figure is real end to end except for which chunks come back.",
        "Flat FAISS search is used at all these sizes (HNSW starts above Settings.ann_threshold = 200,000 chunks).",
        "Two torch threads for the question (query_threads=2) are faster only while no other process wants a core; when "
        "one does, both threads stall at every step and a question takes ~0.5 s (the threads table shows whichever "
        "happened during the run). 1 stays the default: the app also answers two questions at once.",
        "'index alone' is the RSS that Index.load adds (index data plus the faiss and bm25s libraries).",
        "Questions are embedded by the index's backend (the default, onnx-dynamic: int8 arithmetic on onnxruntime); the "
        "baseline column is the same model on sentence-transformers and torch. The load average above says whether "
        "other processes shared the 2 cores; p95 figures are the most affected when they did.",
    ]
    if config.quick:
        section.notes.append("--quick: 1k real and 20k synthetic chunks, 50 questions; not comparable to targets.")
    return section


def raw_model(index: Index) -> SentenceTransformer:
    """The plain SentenceTransformer for the baseline column, on one torch thread (set once, here)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = getattr(index.embedder, "model", None)  # the torch backend's own model
    return model if model is not None else SentenceTransformer(index.settings.model_path, device="cpu")


def stage_timings(index: Index, questions: list[str]) -> dict[str, tuple[float, float]]:
    """p50 and p95 of each stage of ``Index.rank``, and of the raw library call for the question embedding."""
    k = index.settings.retrieval.candidates
    model = raw_model(index)
    vectors = {q: index.retriever.embed_question(q) for q in questions}
    dense = {q: index.dense.search(vectors[q][None, :], k) for q in questions}
    tokens = {q: stems(split(q)) for q in questions}  # split once, as a question is read (Question.query_tokens)
    lexical = {q: index.lexical.search(tokens[q], k) for q in questions}

    def raw_encode(question: str) -> object:
        return model.encode([question], batch_size=1, normalize_embeddings=True, convert_to_numpy=True)

    calls: dict[str, Callable[[str], object]] = {
        "embed": index.retriever.embed_question,
        "raw": raw_encode,
        "faiss": lambda q: index.dense.search(vectors[q][None, :], k),
        "bm25": lambda q: index.lexical.search(tokens[q], k),
        "fusion": lambda q: fuse((dense[q][0][0], dense[q][1][0]), lexical[q], index.settings.retrieval.dense_weight),
    }
    return {name: p50_p95(latencies_ms(call, questions)) for name, call in calls.items()}


def limit_reason(timings: dict[str, tuple[float, float]]) -> str:
    (e50, e95), (r50, r95) = timings["embed"], timings["raw"]
    faiss = timings["faiss"][0]
    flat = " (an exact scan of every vector; HNSW answers in about 1 ms, see the scale section)" if faiss > 5 else ""
    return (f"embedding the question with MiniLM: {e50:.0f} ms p50 / {e95:.0f} ms p95, and the raw SentenceTransformer.encode "
            f"call alone takes {r50:.0f} / {r95:.0f} ms on this CPU; FAISS {faiss:.1f} ms p50{flat}, BM25 {timings['bm25'][0]:.1f} ms")


def threads_table(folder: Path, questions: list[str]) -> Table:
    table = Table("Torch threads for the question embedding (RetrievalSettings.query_threads), same index",
                  ["query_threads", "retrieve p50", "retrieve p95", "answer p50", "answer p95"])
    for threads in (1, 2):
        settings = replace(Settings(), retrieval=RetrievalSettings(query_threads=threads))
        index = Index.load(folder, settings=settings)
        r50, r95 = p50_p95(latencies_ms(partial(index.retrieve, k=5), questions))
        a50, a95 = p50_p95(latencies_ms(index.answer, questions))
        table.add(threads, r50, r95, a50, a95)
    return table


def profile_table(index: Index, questions: list[str], top: int = 8) -> Table:
    """cProfile of ``answer``: the functions with the most time of their own."""
    for question in questions[:5]:
        index.answer(question)
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        index.answer(question)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    table = Table(f"cProfile of answer at {len(index.chunks):,} chunks, {len(questions)} questions: "
                  f"top functions by own time (total {1000 * total / len(questions):.1f} ms per answer under the profiler)",
                  ["function", "own ms per answer", "share", "calls per answer"])
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, own, _, _) in rows:
        where = "/".join(Path(filename).parts[-2:]) if filename != "~" else "builtin"
        table.add(f"{name} ({where}:{line})", 1000 * own / len(questions), f"{own / total:.0%}", calls / len(questions))
    return table
