"""BEIR SciFact test split: nDCG@10 and recall@100 for dense, BM25 and hybrid retrieval.

Each abstract is written as one ``<id>.txt`` file, "title\\n\\nabstract", and indexed
with ``qa.Index.build``, so the measured system is the real pipeline with its
chunking (3-sentence chunks, title in front). Chunk hits are mapped back to
documents, keeping each document's best rank. SciFact titles end with a period;
``qa.read.clean.document_title`` would then not take the first line as a title (it reads
like a sentence), so the period is dropped: the file looks like a document with a heading.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from evaldata import write_corpus
from qa import Index
from qa.index.lexical import LexicalIndex, split, stems
from qa.retrieval.retriever import fuse

from .common import Config, Section, Table, check_at_least, fmt, stopwatch

NDCG_TARGET = 0.70
REFERENCES = (  # published or previously measured nDCG@10 on the same split
    ("BM25, BEIR paper (Anserini)", 0.665, None),
    ("all-MiniLM-L6-v2, MTEB", 0.64, None),
    ("bm25s with stemming, its own report / ../shared/FINDINGS.md", 0.679, 0.913),
    ("min-max fusion w=0.5, whole abstracts, ../shared/FINDINGS.md", 0.738, 0.942),
)
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
RRF_K = 60
NDCG_DEPTH = 100  # chunks asked for when scoring nDCG@10: the default candidate depth
RECALL_DEPTH = 500  # chunks asked for when scoring recall@100 (about 100+ distinct abstracts)


@dataclass(frozen=True)
class SciFact:
    titles: dict[str, str]
    texts: dict[str, str]
    sentences: dict[str, list[str]]
    queries: dict[str, str]  # the test queries only
    qrels: dict[str, dict[str, int]]  # query id -> {document id: relevance}


def load(eval_dir: Path, split: str = "test") -> SciFact:
    folder = eval_dir / "scifact"
    titles: dict[str, str] = {}
    texts: dict[str, str] = {}
    sentences: dict[str, list[str]] = {}
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            titles[row["_id"]], texts[row["_id"]] = row["title"], row["text"]
            sentences[row["_id"]] = row.get("sentences") or [row["text"]]
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            query, doc, score = line.split("\t")
            qrels.setdefault(query, {})[doc] = int(score)
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        queries = {row["_id"]: row["text"] for row in map(json.loads, handle) if row["_id"] in qrels}
    return SciFact(titles, texts, sentences, queries, qrels)


def claims(eval_dir: Path) -> list[str]:
    """Every SciFact claim (train and test), as questions for the speed benchmarks."""
    with open(eval_dir / "scifact" / "queries.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


def document_text(title: str, text: str) -> str:
    return f"{title.strip().rstrip('.')}\n\n{text.strip()}\n"


def corpus_files(config: Config, data: SciFact, ids: Sequence[str] | None = None) -> list[Path]:
    """The abstracts as files under the cache (written once, reused by every benchmark)."""
    ids = list(data.texts) if ids is None else list(ids)
    return write_corpus(config.cache_dir / "scifact-docs", ((f"{i}.txt", document_text(data.titles[i], data.texts[i])) for i in ids))


def quick_ids(data: SciFact, queries: int = 50, distractors: int = 500) -> list[str]:
    """A small corpus for --quick: the relevant abstracts of the first queries, plus distractors."""
    wanted = {doc for query in list(data.queries)[:queries] for doc in data.qrels[query]}
    others = [i for i in data.texts if i not in wanted][:distractors]
    return [i for i in data.texts if i in wanted] + others


def build_index(config: Config, data: SciFact, progress: bool = False) -> Index:
    """The SciFact index, built once under the cache (incremental builds make later calls fast)."""
    ids = quick_ids(data) if config.quick else None
    folder = config.cache_dir / ("scifact-quick-index" if config.quick else "scifact-index")
    return Index.build(corpus_files(config, data, ids), folder, progress=progress)


# ----- metrics ------------------------------------------------------------------


def ndcg(ranking: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal = sum(rel / math.log2(rank + 2) for rank, rel in enumerate(sorted(relevant.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall(ranking: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    hits = sum(1 for doc in ranking[:k] if relevant.get(doc, 0) > 0)
    return hits / sum(1 for rel in relevant.values() if rel > 0)


def documents_of(index: Index, chunk_ids: Sequence[int]) -> list[str]:
    """Document ids in order of their best chunk (a document's score is its best chunk's)."""
    seen: dict[str, None] = {}
    for chunk in chunk_ids:
        source = index.documents[int(index.chunks["doc"][chunk])].source
        seen.setdefault(source.removesuffix(".txt"), None)
    return list(seen)


def rrf(lists: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    scores: dict[int, float] = {}
    for ranked in lists:
        for rank, chunk in enumerate(ranked, start=1):
            scores[chunk] = scores.get(chunk, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda c: (-scores[c], c))


# ----- the benchmark ----------------------------------------------------------------


def run(config: Config) -> Section:
    data = load(config.eval_dir)
    with stopwatch() as build_time:
        index = build_index(config, data)
    queries = list(data.queries.items())[: 50 if config.quick else None]
    section = Section("scifact", "Retrieval quality: BEIR SciFact test")
    table = Table(f"nDCG@10 and recall@100, {len(queries)} test queries, {len(index.documents):,} abstracts "
                  f"in {len(index.chunks):,} chunks", ["system", "nDCG@10", "recall@100", "comparison"])
    scores: dict[str, tuple[float, float]] = {}
    for mode in ("dense", "lexical", "hybrid"):
        top = [documents_of(index, [c for c, _ in index.retriever.rank(q, NDCG_DEPTH, mode)[0]]) for _, q in queries]
        deep = [documents_of(index, [c for c, _ in index.retriever.rank(q, RECALL_DEPTH, mode)[0]]) for _, q in queries]
        scores[mode] = (_mean(ndcg, top, queries, data), _mean(recall, deep, queries, data))
    labels = {"dense": "qa dense (MiniLM, chunks)", "lexical": "qa BM25 (bm25s, stemmed)", "hybrid": "qa hybrid (default)"}
    for mode, (n, r) in scores.items():
        table.add(labels[mode], n, r, "this run")
    for name, ref_ndcg, ref_recall in REFERENCES:
        table.add(name, ref_ndcg, "—" if ref_recall is None else ref_recall, "reference")
    whole = whole_abstract_bm25(index, queries, data)
    table.add("bm25s over whole abstracts (no chunking), same tokenizer", *whole, "chunking check")
    fusion = fusion_table(index, queries, data)
    best = max(fusion.rows, key=lambda row: float(row[1]))
    section.tables += [table, fusion]
    section.notes.append(f"Best nDCG@10 in the fusion sweep: {best[0]} ({best[1]}; recall@100 {best[2]}).")
    hybrid, dense, lexical = scores["hybrid"][0], scores["dense"][0], scores["lexical"][0]
    section.checks += [
        check_at_least("SciFact hybrid nDCG@10", hybrid, NDCG_TARGET, fmt(hybrid),
                       "see the fusion table: chunking and the weight were checked"),
        check_at_least("hybrid adds to both retrievers (nDCG@10 gain over the better one)",
                       hybrid - max(dense, lexical), 0.0, f"{hybrid - max(dense, lexical):+.3f}"),
    ]
    section.notes += [
        f"Index built (or reused from the cache folder) in {build_time[0]:.0f} s.",
        f"nDCG@10 uses the top {NDCG_DEPTH} chunks (the default candidate depth); recall@100 the top {RECALL_DEPTH} "
        "chunks, so that 100 distinct abstracts are ranked.",
        "Abstracts average about 5 chunks of 3 sentences; an abstract scores as its best chunk. "
        "The references embed or match the whole abstract (title + text) as one unit.",
    ]
    if config.quick:
        section.notes.append("--quick: a corpus of the relevant abstracts plus 500 distractors; not comparable to the references.")
    return section


def whole_abstract_bm25(index: Index, queries: list[tuple[str, str]], data: SciFact) -> tuple[float, float]:
    """The product's BM25 (qa.index.lexical) over whole abstracts, to see what chunking does to lexical retrieval."""
    ids = [doc.source.removesuffix(".txt") for doc in index.documents]
    lexical = LexicalIndex.build([document_text(data.titles[i], data.texts[i]) for i in ids])
    rankings = [[ids[j] for j in lexical.search(stems(split(question)), 100)[1].tolist()] for _, question in queries]
    return _mean(ndcg, rankings, queries, data), _mean(recall, rankings, queries, data)


def fusion_table(index: Index, queries: list[tuple[str, str]], data: SciFact) -> Table:
    """Fusion variants over the same two candidate lists (the product's ``fuse``, and RRF)."""
    table = Table(f"Fusion variants over the same candidate lists ({NDCG_DEPTH} per retriever for nDCG@10, {RECALL_DEPTH} "
                  "for recall@100); the product uses min-max with dense weight 0.5", ["fusion", "nDCG@10", "recall@100"])
    lists = []
    for _, question in queries:
        vector = index.retriever.embed_question(question)
        dense = index.dense.search(vector[None, :], RECALL_DEPTH)
        lists.append(((dense[0][0], dense[1][0]), index.lexical.search(stems(split(question)), RECALL_DEPTH)))

    def add(label: str, ranker: Callable[[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], list[int]]) -> None:
        top, deep = [], []
        for dense, lexical in lists:
            top.append(documents_of(index, ranker(_cut(dense, NDCG_DEPTH), _cut(lexical, NDCG_DEPTH))))
            deep.append(documents_of(index, ranker(dense, lexical)))
        table.add(label, _mean(ndcg, top, queries, data), _mean(recall, deep, queries, data))

    for weight in WEIGHTS:
        add(f"min-max, dense weight {weight}", partial(fused_ids, dense_weight=weight))
    add(f"reciprocal rank fusion, k={RRF_K}", lambda d, lx: rrf([d[1].tolist(), lx[1].tolist()]))
    return table


def fused_ids(dense: tuple[np.ndarray, np.ndarray], lexical: tuple[np.ndarray, np.ndarray], dense_weight: float) -> list[int]:
    """The product's min-max fusion, as chunk ids best first."""
    return [c for c, _ in fuse(dense, lexical, dense_weight)]


def _cut(hits: tuple[np.ndarray, np.ndarray], depth: int) -> tuple[np.ndarray, np.ndarray]:
    return hits[0][:depth], hits[1][:depth]


def _mean(metric: Callable[[Sequence[str], dict[str, int]], float], rankings: list[list[str]],
          queries: list[tuple[str, str]], data: SciFact) -> float:
    return float(np.mean([metric(r, data.qrels[q]) for r, (q, _) in zip(rankings, queries, strict=True)]))
