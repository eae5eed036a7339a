"""The int8 ONNX backend against torch: retrieval quality, build speed, answer latency, cold start.

- Quality: the same corpus indexed by each backend (chunk vectors only: retrieval
  does not read sentence vectors); XQuAD paragraph R@1 and SciFact nDCG@10 per
  backend, and the torch index queried with ONNX question vectors (what mixing
  backends would cost). SciFact here is a reduced corpus: the relevant abstracts
  of all 300 test queries plus distractors (the full 5,183 would take hours per
  backend on a busy 2-core machine).
- Build speed: the torch pipeline (chunks + sentences) against the ONNX one
  (with and without sentence vectors), fresh indexes of the same abstracts, in
  rounds that rotate the order, so load drift hits all three alike.
- Latency: retrieve and answer at about 10k chunks on one thread. The index holds
  real SciFact text (BM25, sentences, quoting are real) with random stored vectors
  (a flat search costs the same for any vectors); questions are embedded by the
  real model. Also with ``sentence_vectors=False``: the reader embeds the
  candidate sentences per question.
- Cold start: a new process, that index, to its first answer (``bench.probe``), per backend.

The ``onnx`` section measures quality and build speed, ``onnx_latency`` (``run_latency``)
latency and cold start; ``onnx_docs`` (``run_docs``) times the same three build pipelines on
``../shared/eval/docs`` (real documentation: HTML, Markdown, a PDF manual).
"""

from __future__ import annotations

import shutil
import statistics
from functools import partial
from pathlib import Path

import numpy as np

from evaldata import write_corpus
from qa import Index, Settings
from qa.answer.reader import load_reader

from . import corpora, probe, scifact, xquad_retrieval
from .common import Config, Section, Table, check_at_least, check_at_most, p50_p95, pct, stopwatch, wall_and_cpu_ms

BACKENDS = ("onnx", "onnx-dynamic", "torch")
DISTRACTORS = 500  # SciFact abstracts besides the relevant ones
BUILD_ROUNDS, BUILD_DOCUMENTS = 3, 30  # abstracts per round and configuration
LATENCY_CHUNKS = 10_000
QUESTIONS = 200
AGAINST_B388370 = (
    "Against main at b388370 (2026-12-05, whose answer p95 here was 43.6 ms on that day's machine), on one machine: "
    "index.answer over the same 200 SciFact claims, its CPU time, both commits run in turn 5 times, each on its own "
    "index of this section (2026-12-07 22:55, the reader's training paused). Runs' p50 / p95 ms at b388370: 37.9 / 41.9, "
    "38.8 / 48.2, 38.3 / 44.0, 38.8 / 44.0, 38.4 / 42.9; now: 39.1 / 46.8, 38.4 / 42.0, 38.6 / 42.2, 37.7 / 42.3, "
    "38.1 / 41.6; the median run 38.4 / 44.0 against 38.4 / 42.2: the same. Before three changes that day (tokenising "
    "without bm25s's per-call stop set and progress bars, the word weights' counts and median, the span mask made once) "
    "it was 4% (p95) to 9% (p50) slower, the per-document word weights (qa/answer/weights.py) mostly. Both commits read "
    "4 sentences of up to 64 tokens with a 6-layer reader, about 31 ms of the 38.")
TARGETS = {"answer_p95_ms": 30.0,  # what a chat can wait for, the reader included
           "cold_start_s": 3.0, "build_ratio": 2.5, "build_ratio_scifact": 1.5, "ndcg_drop": 0.005, "r1_drop": 0.5}


def run(config: Config) -> Section:
    section = Section("onnx", "The int8 ONNX backend against torch: retrieval quality and build speed")
    quality(config, section)
    build_speed(config, section)
    return section


# ----- quality -----------------------------------------------------------------------


def lean(backend: str) -> Settings:
    return Settings(backend=backend, sentence_vectors=False)


def quality(config: Config, section: Section) -> None:
    xquad = xquad_retrieval.load(config.eval_dir)
    data = scifact.load(config.eval_dir)
    queries = list(data.queries.items())[: 50 if config.quick else None]
    wanted = {doc for query, _ in queries for doc in data.qrels[query]}
    ids = [i for i in data.texts if i in wanted] + [i for i in data.texts if i not in wanted][: 100 if config.quick else DISTRACTORS]
    questions = xquad.questions[:: 8 if config.quick else 1]
    xquad_files = write_corpus(config.cache_dir / "xquad-paragraphs", xquad.paragraphs.items())
    scifact_files = scifact.corpus_files(config, data, ids)
    indexes = {}
    for backend in BACKENDS:
        with stopwatch() as elapsed:
            indexes[backend] = (
                Index.build(xquad_files, config.cache_dir / f"onnx-xquad-{backend}", settings=lean(backend)),
                Index.build(scifact_files, config.cache_dir / f"onnx-scifact-{len(ids)}-{backend}", settings=lean(backend)),
            )
        print(f"  {backend}: indexes ready in {elapsed[0]:.0f} s", flush=True)
    table = Table(f"Retrieval quality per backend: XQuAD ({len(questions)} questions, paragraph R@1) and SciFact "
                  f"({len(queries)} test queries over {len(ids):,} abstracts: the relevant ones plus distractors, nDCG@10)",
                  ["backend", "XQuAD R@1 hybrid", "XQuAD R@1 dense", "SciFact nDCG@10 hybrid", "SciFact nDCG@10 dense"])
    scores = {}
    for label, (x_index, s_index), embedder in (
        ("torch", indexes["torch"], None),
        ("onnx (the shipped int8 file, fp32 arithmetic)", indexes["onnx"], None),
        ("onnx-dynamic (int8 arithmetic; the default)", indexes["onnx-dynamic"], None),
        ("torch index, onnx questions (mixed)", indexes["torch"], indexes["onnx"][0].embedder),
    ):
        if embedder is not None:
            for index in (x_index, s_index):
                index.retriever._embedder = embedder  # what querying across backends would do
        scores[label] = [recall_at_1(x_index, questions, mode) for mode in ("hybrid", "dense")]
        scores[label] += [ndcg_at_10(s_index, queries, data, mode) for mode in ("hybrid", "dense")]
        table.add(label, *(pct(v) for v in scores[label][:2]), *scores[label][2:])
    section.tables.append(table)
    torch_scores, default_scores = scores["torch"], scores["onnx-dynamic (int8 arithmetic; the default)"]
    r1_drop = 100 * (torch_scores[0] - default_scores[0])
    ndcg_drop = torch_scores[2] - default_scores[2]
    plain = scores["onnx (the shipped int8 file, fp32 arithmetic)"]
    section.notes.append(f"onnx against torch: XQuAD hybrid R@1 {100 * (plain[0] - torch_scores[0]):+.1f} points, "
                         f"SciFact hybrid nDCG@10 {plain[2] - torch_scores[2]:+.4f}.")
    section.checks += [
        check_at_most("XQuAD hybrid R@1 lost by the default backend, onnx-dynamic (points)", r1_drop, TARGETS["r1_drop"],
                      f"{r1_drop:+.1f}"),
        check_at_most("SciFact hybrid nDCG@10 lost by the default backend, onnx-dynamic", ndcg_drop, TARGETS["ndcg_drop"],
                      f"{ndcg_drop:+.4f}"),
    ]


def recall_at_1(index: Index, questions: list[xquad_retrieval.Question], mode: str) -> float:
    return float(np.mean([xquad_retrieval.paragraph_ranking(index, q.text, mode)[:1] == [q.paragraph] for q in questions]))


def ndcg_at_10(index: Index, queries: list[tuple[str, str]], data: scifact.SciFact, mode: str) -> float:
    rankings = [scifact.documents_of(index, [c for c, _ in index.retriever.rank(q, scifact.NDCG_DEPTH, mode)[0]])
                for _, q in queries]
    return float(np.mean([scifact.ndcg(r, data.qrels[q]) for r, (q, _) in zip(rankings, queries, strict=True)]))


# ----- build speed -------------------------------------------------------------------


CONFIGURATIONS = {  # what the build-speed tables compare; the first is the baseline
    "torch, chunks + sentences": Settings(backend="torch"),
    "onnx, chunks + sentences": Settings(backend="onnx"),
    "onnx-dynamic, chunks + sentences (the default)": Settings(backend="onnx-dynamic"),
}
DEFAULT_BUILD = "onnx-dynamic, chunks + sentences (the default)"


def build_speed(config: Config, section: Section) -> None:
    data = scifact.load(config.eval_dir)
    rounds, count = (2, 10) if config.quick else (BUILD_ROUNDS, BUILD_DOCUMENTS)
    pool = list(data.texts)[-rounds * count :]  # abstracts far from the quality subset's first ones
    groups = [scifact.corpus_files(config, data, pool[n * count : (n + 1) * count]) for n in range(rounds)]
    build_table(config, section, groups, f"{rounds} × {count} fresh SciFact abstracts", "SciFact abstracts", TARGETS["build_ratio_scifact"])


def build_table(config: Config, section: Section, groups: list[list[Path]], what: str, short: str, target: float) -> None:
    """Index.build of each group of files with each configuration, rounds rotating the order; totals per configuration."""
    for settings in CONFIGURATIONS.values():  # load both models before timing
        Index.build(groups[0][:1], config.scratch("onnx-build-warm") / "index", settings=settings)
    seconds = dict.fromkeys(CONFIGURATIONS, 0.0)
    chunks = sentences = 0
    for number, files in enumerate(groups):
        names = list(CONFIGURATIONS)
        names = names[number % len(names) :] + names[: number % len(names)]  # rotate the order each round
        for name in names:
            scratch = config.scratch("onnx-build")
            with stopwatch() as elapsed:
                index = Index.build(files, scratch / "index", settings=CONFIGURATIONS[name])
            seconds[name] += elapsed[0]
        chunks += len(index.chunks)
        sentences += len(index.corpus.sentences)
    baseline = seconds[next(iter(CONFIGURATIONS))]
    table = Table(f"Index.build of {what} ({chunks:,} chunks, {sentences:,} sentences) with each pipeline, "
                  f"{len(groups)} rounds rotating the order; all cores", ["pipeline", "seconds", "chunks/s", "speed-up over torch"])
    for name, value in seconds.items():
        table.add(name, value, chunks / value, f"{baseline / value:.2f}×")
    section.tables.append(table)
    ratio = baseline / seconds[DEFAULT_BUILD]
    section.checks.append(check_at_least(
        f"build speed-up over torch (chunks + sentences) on {short} (the default: onnx-dynamic, sentence vectors stored)", ratio,
        target, f"{ratio:.2f}×", f"the onnx backend: {baseline / seconds['onnx, chunks + sentences']:.2f}×"))
    for folder in config.cache_dir.glob("scratch/onnx-build*"):
        shutil.rmtree(folder, ignore_errors=True)


def run_docs(config: Config) -> Section:
    """The ``onnx_docs`` section: build speed on ../shared/eval/docs (14 real documentation files)."""
    from qa.read.files import read_sources

    section = Section("onnx_docs", "Build speed on real documentation: the ONNX backend against torch")
    documents, _ = read_sources([config.eval_dir / "docs"])
    paths = sorted((Path(doc.path) for doc in documents), key=lambda p: p.stat().st_size)
    if config.quick:
        paths = paths[:3]
    groups = [paths[n::3] for n in range(3)]  # three rounds of mixed sizes
    build_table(config, section, groups, f"the {len(paths)} files of ../shared/eval/docs", "../shared/eval/docs", TARGETS["build_ratio"])
    return section


# ----- latency and cold start ----------------------------------------------------------


def latency_index(config: Config, data: scifact.SciFact, chunks: int, settings: Settings, backend: str) -> Path:
    """An index of the first SciFact abstracts up to ``chunks`` chunks, with random stored vectors."""
    ids, total = [], 0
    for i in data.texts:
        ids.append(i)
        total += max(1, len(data.sentences[i]) // 2)  # about 2 new sentences per 3-sentence chunk with overlap 1
        if total >= chunks:
            break
    folder = config.cache_dir / f"onnx-latency-{chunks // 1000}k-{backend}-{'s' if settings.sentence_vectors else 'c'}"
    Index.build(scifact.corpus_files(config, data, ids), folder, settings=settings,
                embedder=corpora.RandomEmbedder(backend=backend))
    return folder


def run_latency(config: Config) -> Section:
    """The ``onnx_latency`` section: retrieve and answer latency at ~10k chunks, and cold start, per backend."""
    section = Section("onnx_latency", "Question latency and cold start with the ONNX backend")
    data = scifact.load(config.eval_dir)
    size = 2_000 if config.quick else LATENCY_CHUNKS
    questions = list(data.queries.values())[: 60 if config.quick else QUESTIONS + 10]
    latency(config, section, data, size, questions)
    cold_start(config, section, data, size, questions[0])
    return section


def latency(config: Config, section: Section, data: scifact.SciFact, size: int, questions: list[str]) -> None:
    table = Table(f"Latency in ms over {len(questions) - 10} SciFact claims, one thread, p50 / p95: wall clock, and in "
                  "brackets the asking thread's CPU time (what the call costs without waiting for a core)",
                  ["index", "chunks", "embed question", "retrieve", "answer"])
    answer = {}
    for label, settings in (("onnx-dynamic (the default), sentence vectors stored", Settings(backend="onnx-dynamic")),
                            ("onnx, sentence vectors stored", Settings(backend="onnx")),
                            ("onnx-dynamic, no sentence vectors (reader embeds them)", lean("onnx-dynamic"))):
        index = Index.load(latency_index(config, data, size, settings, settings.backend), settings=settings)
        cells = []
        for call in (index.retriever.embed_question, partial(index.retrieve, k=5), index.answer):
            wall, cpu = wall_and_cpu_ms(call, questions)
            (w50, w95), (c50, c95) = p50_p95(wall), p50_p95(cpu)
            cells.append(f"{w50:.1f} / {w95:.1f} ({c50:.1f} / {c95:.1f})")
        answer[label] = (w95, c95)
        table.add(label, len(index.chunks), *cells)
    section.tables.append(table)
    wall95, cpu95 = answer["onnx-dynamic (the default), sentence vectors stored"]
    reader = load_reader(Settings().answer.reader)
    layers, read = reader.model.config.get("recipe", {}).get("layers", "?"), reader.combiner.judged
    section.checks += [
        check_at_most(f"answer p95 at {size:,} chunks, one thread, wall clock (ms)", wall95, TARGETS["answer_p95_ms"],
                      f"{wall95:.1f} ms", f"{cpu95:.1f} ms of it is CPU time: the reader ({layers} layers) reads the best {read} candidate "
                      "sentences, up to 64 tokens each, after retrieval (the retrieve column); waiting for a core adds the rest"),
        check_at_most(f"answer p95 at {size:,} chunks, one thread, CPU time (ms)", cpu95, TARGETS["answer_p95_ms"],
                      f"{cpu95:.1f} ms", f"the reader's cross-encoder over {read} sentences comes on top of retrieval (the "
                      "retrieve column; the reader alone is in the reader section)"),
    ]
    section.notes += [
        "Absolute times on this shared machine change between runs of the same code (by up to 1.6x here on one day, "
        "with the host's load): the embed-question column shows the machine's state; compare rows within a run.",
        "Stored chunk and sentence vectors in these indexes are random (a flat search and the reader's dot products "
        "cost the same for any vectors), so most answers there abstain; the question, BM25, sentences and quotes are real.",
        "Without sentence vectors the reader embeds up to 15 candidate sentences per question on the asking thread: "
        "the build gets faster (onnx section) but answers get much slower, so sentence vectors stay on by default.",
        AGAINST_B388370,
    ]


def cold_start(config: Config, section: Section, data: scifact.SciFact, size: int, question: str) -> None:
    cold = Table(f"Cold start: a new process, an index of {size:,} chunks, to the first answer; median of 3 (first in brackets)",
                 ["backend", "process to first answer s", "import qa s", "Index.load s", "load the model s", "first answer s"])
    walls = {}
    for backend in BACKENDS:
        folder = latency_index(config, data, size, Settings(backend=backend), backend)
        runs = [probe.measure(folder, question, backend) for _ in range(3)]
        walls[backend] = statistics.median(r.wall_s for r in runs)
        columns = [[r.wall_s for r in runs], [r.import_s for r in runs], [r.load_s for r in runs],
                   [r.model_s for r in runs], [r.answer_s for r in runs]]
        cold.add(backend, *(f"{statistics.median(c):.2f} ({c[0]:.2f})" for c in columns))
    section.tables.append(cold)
    section.checks.append(check_at_most("cold start to first answer, the default onnx-dynamic (s)", walls["onnx-dynamic"],
                                        TARGETS["cold_start_s"], f"{walls['onnx-dynamic']:.2f} s",
                                        "interpreter and library imports under load"))
    section.notes.append(f"Cold start is {walls['torch'] / walls['onnx-dynamic']:.1f}× faster with onnx-dynamic: no torch import, "
                         "a 23 MB model; the model load includes one warm-up call, so the first answer is as fast as the rest.")
