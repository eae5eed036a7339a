"""Side by side with Haystack's hybrid pipeline on XQuAD, in one process, interleaved per question.

Haystack 3.4.1 (``pip install -e ".[bench]"``): an in-memory document store, BM25 and
embedding retrievers, a reciprocal-rank-fusion joiner, the question embedded by
``SentenceTransformersTextEmbedder`` with the same all-MiniLM-L6-v2 folder. Both
systems get the same units: our chunks (title + 3 sentences), so recall compares
the pipelines, not the chunking. For each question both are timed, in alternating
order, on one thread (torch set to 1 thread once, before timing; our question path
is single-threaded); a third system, ours with the other ONNX backend (``onnx``: the shipped file's
fp32 arithmetic), rotates in.
Recall@1: the top passage comes from the paragraph holding the answer.
"""

from __future__ import annotations

import time
from dataclasses import replace

from evaldata import write_corpus
from qa import Index, Settings

from . import xquad_retrieval
from .common import Config, Section, Table, check_at_least, fmt, p50_p95, pct, stopwatch

TOP_K = 10  # candidates per Haystack retriever (its default); the joiner keeps the best 5
SPEED_TARGET = 5.0


def haystack_pipeline(texts: list[str], sources: list[str], model_path: str) -> tuple[object, float]:
    """(Haystack hybrid pipeline over ``texts``, seconds spent embedding and writing the documents)."""
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    store = InMemoryDocumentStore()
    documents = [Document(content=text, meta={"source": source}) for text, source in zip(texts, sources, strict=True)]
    with stopwatch() as indexing:
        embedder = SentenceTransformersDocumentEmbedder(model=model_path, progress_bar=False, normalize_embeddings=True,
                                                        local_files_only=True)
        embedder.warm_up()
        store.write_documents(embedder.run(documents)["documents"])
    pipeline = Pipeline()
    pipeline.add_component("text_embedder", SentenceTransformersTextEmbedder(
        model=model_path, progress_bar=False, normalize_embeddings=True, local_files_only=True))
    pipeline.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=TOP_K))
    pipeline.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=TOP_K))
    pipeline.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=5))
    pipeline.connect("text_embedder.embedding", "dense.query_embedding")
    pipeline.connect("bm25", "joiner")
    pipeline.connect("dense", "joiner")
    pipeline.warm_up()
    return pipeline, indexing[0]


def run(config: Config) -> Section:
    import torch

    data = xquad_retrieval.load(config.eval_dir)
    questions = data.questions[:: 8 if config.quick else 1]
    settings = Settings()
    scratch = config.scratch("haystack")
    files = write_corpus(scratch / "docs", data.paragraphs.items())
    with stopwatch() as ours_build:
        index = Index.build(files, scratch / "index", settings=settings)
    other = "onnx" if settings.backend != "onnx" else "onnx-dynamic"
    fast = Index.build(files, scratch / f"index-{other}", settings=replace(settings, backend=other))
    parts = index.corpus.parts()
    texts = [text for part in parts for text in part.embed_texts()]
    sources = [part.document.source for part in parts for _ in range(len(part.chunks))]
    pipeline, haystack_build = haystack_pipeline(texts, sources, settings.model_path)
    torch.set_num_threads(1)  # once, before the questions: both sides answer on one thread

    def ours(question: str) -> str:
        return index.retrieve(question, k=5)[0].source

    def ours_other(question: str) -> str:
        return fast.retrieve(question, k=5)[0].source

    def theirs(question: str) -> str:
        result = pipeline.run({"text_embedder": {"text": question}, "bm25": {"query": question}})  # type: ignore[attr-defined]
        return result["joiner"]["documents"][0].meta["source"]

    for question in questions[:10]:  # warm-up, untimed
        ours(question.text), theirs(question.text), ours_other(question.text)
    systems = [("ours", ours), ("haystack", theirs), ("other", ours_other)]
    times: dict[str, list[float]] = {name: [] for name, _ in systems}
    cpu: dict[str, list[float]] = {name: [] for name, _ in systems}
    hits: dict[str, list[bool]] = {name: [] for name, _ in systems}
    for number, question in enumerate(questions):
        order = systems[number % 3 :] + systems[: number % 3]  # rotate who goes first
        for name, call in order:
            start, start_cpu = time.perf_counter(), time.thread_time()
            source = call(question.text)
            cpu[name].append(1000 * (time.thread_time() - start_cpu))
            times[name].append(1000 * (time.perf_counter() - start))
            hits[name].append(source == question.paragraph)

    section = Section("haystack", "Side by side: Haystack's hybrid pipeline and ours on XQuAD")
    table = Table(f"{len(questions)} XQuAD questions over {len(texts):,} chunks of {len(data.paragraphs)} paragraphs, "
                  "interleaved per question, 1 thread; ms per question (retrieve the top 5)",
                  ["system", "p50 ms", "p95 ms", "CPU p50 ms", "CPU p95 ms", "R@1", "indexing s"])
    (o50, o95), (h50, h95) = p50_p95(times["ours"]), p50_p95(times["haystack"])
    (oc50, oc95), (hc50, hc95) = p50_p95(cpu["ours"]), p50_p95(cpu["haystack"])
    (d50, d95), (dc50, dc95) = p50_p95(times["other"]), p50_p95(cpu["other"])
    recall = {name: sum(found) / len(found) for name, found in hits.items()}
    table.add(f"qa (hybrid, {settings.backend} backend, {settings.retrieval.candidates} candidates per retriever)",
              o50, o95, oc50, oc95, pct(recall["ours"]), ours_build[0])
    table.add(f"Haystack 3.4.1 (BM25 + embedding top {TOP_K} each, RRF joiner, sentence-transformers)",
              h50, h95, hc50, hc95, pct(recall["haystack"]), haystack_build)
    table.add("ratio Haystack / qa", h50 / o50, h95 / o95, hc50 / oc50, hc95 / oc95,
              f"{100 * (recall['ours'] - recall['haystack']):+.1f} points",
              haystack_build / ours_build[0])
    table.add(f"qa with the {other} backend", d50, d95, dc50, dc95, pct(recall['other']), "")
    table.add(f"ratio Haystack / qa {other}", h50 / d50, h95 / d95, hc50 / dc50, hc95 / dc95,
              f"{100 * (recall['other'] - recall['haystack']):+.1f} points", "")
    section.tables.append(table)
    section.checks += [
        check_at_least("retrieve p50 speed-up over Haystack's hybrid pipeline (wall clock)", h50 / o50, SPEED_TARGET,
                       f"{h50 / o50:.1f}×", f"a shared machine: {hc50 / oc50:.1f}× in CPU time of the asking thread; waiting "
                       "for a core adds milliseconds to each question whatever its length, which shrinks the ratio"),
        check_at_least("retrieve p50 speed-up over Haystack's hybrid pipeline (CPU time)", hc50 / oc50, SPEED_TARGET,
                       f"{hc50 / oc50:.1f}×", "embedding the question is most of our time (see the onnx_latency section)"),
        check_at_least("R@1 of qa minus Haystack's (points)", 100 * (recall["ours"] - recall["haystack"]), 0.0,
                       f"{100 * (recall['ours'] - recall['haystack']):+.1f}"),
    ]
    section.notes += [
        f"The {other} backend (not the default) for reference: {h50 / d50:.1f}× faster than Haystack at p50, R@1 "
        f"{100 * (recall['other'] - recall['haystack']):+.1f} points against Haystack's.",
        "Indexing: qa's Index.build (read, chunk, embed chunks and sentences, FAISS, BM25, write) against Haystack embedding "
        "the same chunk texts with sentence-transformers and writing them to its in-memory store (it reads no files and "
        "embeds no sentences); both on all cores.",
        f"Timing order alternates per question; the machine's other load hits both sides alike. {fmt(len(questions))} questions.",
        "CPU ms: the asking thread's CPU time (time.thread_time), which leaves out waiting for a core on a shared machine. "
        "Both sides compute in the asking thread (torch and onnxruntime at one intra-op thread, FAISS and BM25 single-threaded).",
    ]
    return section
