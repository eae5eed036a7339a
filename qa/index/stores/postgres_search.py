"""PostgreSQL + pgvector: connecting, and the two searches that run inside the database.

A store URL (``postgresql://user:password@host:port/database``) names a database instead of an index folder;
whatever it leaves out comes from the usual ``PG*`` environment variables and ``~/.pgpass``, as libpq does. Several
app processes can share one database. This module and ``qa.index.stores.postgres`` are the only ones that import
psycopg (the ``postgres`` extra).

- ``PgVectorSearch`` is a ``VectorSearch``: inner-product search with the pgvector HNSW index on ``qa_chunks.embedding``.
- ``PgLexicalSearch`` is BM25 computed in SQL from the postings table (term, chunk, term count, chunk length), with the
  same stemmed tokens and formula as bm25s's default (Lucene) in ``qa.index.lexical``; chosen over PostgreSQL's
  full-text ``ts_rank_cd`` on SciFact (bench/postgres.py).

Both return the database's chunk ids; ``postgres_view`` reads their rows. Nothing per corpus is held in the process.
"""

from __future__ import annotations

import atexit
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from ...errors import StoreError

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_SECONDS = 5
POOL_WAIT_SECONDS = 5  # a question waits this long for a pooled connection while the server is away, then gets a StoreError
RETRY_SECONDS, RETRY_PAUSE = 3.0, 0.25  # a lost connection (a server restart) is tried again for this long
POOL_SIZE = 4  # connections per process and database (the app answers 2 questions at once)
EF_SEARCH = 800  # HNSW candidate list: recall@10 at 1M near-copies 0.964 (128: 0.820), 15 ms with the graph in shared buffers
MAX_EF_SEARCH = 1000
WORK_MEM = "64MB"  # BM25 sums a common word's postings per chunk (half a million at a million chunks): in memory, not on disk
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, so both stores rank alike
# BM25 of the question's words. Exact (every posting summed) while the words have at most EXACT_POSTINGS postings in all; above that
# (common words in a large library) the chunks holding the rarer words are scored, rarest word first while their postings stay within
# RARE_POSTINGS (the rarest word always: the work is bounded), the best DEPTH of them with every word. At a million chunks, 200 questions:
# top 10 as exact BM25's for 188, p50 / p95 35 / 69 ms (100,000: 193, 72 / 125; the same first quotes for 997 of 1,000 questions).
# The common words are looked up by (term, chunk) key for those chunks only: as a join with ``found`` the planner hashed every posting of
# each common word (a million rows at a million chunks: BM25 p95 192 -> 132 ms, same top 100).
EXACT_POSTINGS, RARE_POSTINGS, DEPTH = 100_000, 50_000, 1_000
_CONTRIBUTION = "q.weight * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / %(average)s))"
BM25 = f"""
WITH q AS (SELECT t.term, q.n * ln(1 + (%(size)s - t.df + 0.5::float8) / (t.df + 0.5::float8)) AS weight,
                  sum(t.df) OVER () <= %(exact)s OR sum(t.df) OVER (ORDER BY t.df, t.term) <= greatest(%(budget)s, t.df) AS rare
           FROM unnest(%(terms)s::text[], %(counts)s::int[]) AS q(term, n) JOIN qa_terms t ON t.term = q.term),
found AS (SELECT p.chunk, sum({_CONTRIBUTION}) AS score FROM q JOIN qa_postings p ON p.term = q.term WHERE q.rare
          GROUP BY p.chunk ORDER BY score DESC, p.chunk LIMIT %(depth)s),
common AS (SELECT p.chunk, sum({_CONTRIBUTION}) AS score FROM q
           JOIN qa_postings p ON p.term = q.term AND p.chunk = ANY(ARRAY(SELECT chunk FROM found)) WHERE NOT q.rare
           GROUP BY p.chunk)
SELECT f.chunk, f.score + coalesce(c.score, 0) AS score FROM found f LEFT JOIN common c ON c.chunk = f.chunk
ORDER BY score DESC, f.chunk LIMIT %(k)s"""

T = TypeVar("T")
_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()


def is_database_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]+@", r"\1:***@", url)
    return re.sub(r"(password=)[^&]+", r"\1***", url)


def connect(url: str, **kwargs: Any) -> Any:
    """A new psycopg connection, or a StoreError that says what is wrong and how to fix it."""
    import psycopg

    if "connect_timeout" not in url:  # another wait: connect_timeout=N in the URL
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as error:
        raise StoreError(explain(url, error)) from None
    except psycopg.ProgrammingError as error:  # the URL itself: a bad %-escape, an unknown parameter
        raise StoreError(f"The store URL {redact(url)} is malformed ({_first_line(error)}). Write it as "
                         "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, with special characters %-encoded.") from None


def _first_line(error: Exception) -> str:
    message = str(error).strip()
    return " ".join(message.splitlines()[0].split()) if message else type(error).__name__


@contextmanager
def session(url: str) -> Iterator[Any]:
    """A pooled connection for searching or loading. The server going away (stopped, restarted, unreachable)
    is a StoreError within ``POOL_WAIT_SECONDS``, not a traceback or a long wait."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        with pool(url).connection(timeout=POOL_WAIT_SECONDS) as connection:
            yield connection
    except PoolTimeout:
        _forget(url)
        raise StoreError(f"Cannot reach the PostgreSQL server of {redact(url)}: no connection within "
                         f"{POOL_WAIT_SECONDS} s. Is it running? Ask again once it is back.") from None
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        _forget(url)
        raise StoreError(lost(url, error)) from None


def reading(url: str, work: Callable[[Any], T]) -> T:
    """``work`` (read-only, so safe to repeat) on a pooled connection. When the connection is lost or cannot be
    had, it is tried again for up to ``RETRY_SECONDS``: a server restart of a second or two fails no question."""
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            with session(url) as connection:
                return work(connection)
        except StoreError:
            if time.monotonic() + RETRY_PAUSE > deadline:
                raise
            time.sleep(RETRY_PAUSE)


def _forget(url: str) -> None:
    """Drop the pool of a server that went away: the next call connects afresh the moment it is back, instead of
    waiting out the pool's growing pauses between reconnection attempts."""
    with _POOLS_LOCK:
        gone = _POOLS.pop(url, None)
    if gone is not None:
        gone.close(timeout=0)


def lost(url: str, error: Exception) -> str:
    """A connection that broke in use, in words."""
    return (f"Lost the connection to the PostgreSQL server of {redact(url)} ({_first_line(error)}). "
            "Is it running? Try again once it is back; the index in it is unchanged.")


def explain(url: str, error: Exception) -> str:
    """A connection failure in words, with the fix."""
    message = str(error).strip()
    where = f"the PostgreSQL server of {redact(url)}"
    if "password authentication failed" in message or "no password supplied" in message:
        return (f"Cannot log in to {where}: wrong or missing password. Put it in the URL "
                "(postgresql://USER:PASSWORD@HOST/DB), in PGPASSWORD or in ~/.pgpass.")
    if re.search(r'database ".*" does not exist', message):
        return f"Cannot open {where}: {message.splitlines()[-1]}. Create it first (`createdb NAME`)."
    if re.search(r'role ".*" does not exist', message):
        return f"Cannot log in to {where}: {message.splitlines()[-1]}. Create the role or use another user."
    unreachable = ("Connection refused", "could not translate host name", "timeout expired",
                   "No such file or directory", "Is the server running", "Network is unreachable")
    if any(text in message for text in unreachable):
        return (f"Cannot reach {where}. Is it running, and are the host and port right "
                "(in the URL, or PGHOST and PGPORT)?")
    return f"Cannot connect to {where}: {' '.join(message.split()) or type(error).__name__}"


def pool(url: str) -> Any:
    """This process's connection pool for ``url`` (connections in autocommit mode, for searching)."""
    from psycopg_pool import ConnectionPool

    with _POOLS_LOCK:
        if url not in _POOLS:
            connect(url).close()  # fail now with a clear message, not later with a pool timeout
            _POOLS[url] = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True},
                                         configure=_configure, check=ConnectionPool.check_connection, open=True)
        return _POOLS[url]


@atexit.register
def close_pools() -> None:
    """Close this process's connections (at exit, or when a caller is done with its databases)."""
    with _POOLS_LOCK:
        for open_pool in _POOLS.values():
            open_pool.close()
        _POOLS.clear()


def _configure(connection: Any) -> None:
    register_types(connection)
    connection.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
    connection.execute(f"SET work_mem = '{WORK_MEM}'")


def register_types(connection: Any) -> None:
    """Let numpy arrays travel as pgvector's ``vector`` (when the extension is installed)."""
    from pgvector.psycopg import register_vector

    installed = connection.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    if installed:
        register_vector(connection)


class PgVectorSearch:
    """The chunk vectors in ``qa_chunks.embedding``, searched with pgvector's HNSW index."""

    kind = "pgvector-hnsw"

    def __init__(self, url: str, size: int, dim: int) -> None:
        self.url = url
        self.size = size  # chunks in the generation loaded
        self.dim = dim

    def __len__(self) -> int:
        return self.size

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, database chunk ids) of each query's ``k`` nearest chunks."""
        k = max(1, min(k, len(self), MAX_EF_SEARCH))
        found = reading(self.url, lambda connection: self._nearest(connection, queries, k))
        width = max(len(hits) for hits in found) if found else 0
        ids = np.full((len(found), width), -1, dtype=np.int64)
        scores = np.zeros((len(found), width), dtype=np.float32)
        for i, hits in enumerate(found):
            ids[i, : len(hits)] = [chunk for chunk, _ in hits]
            scores[i, : len(hits)] = [-float(distance) for _, distance in hits]
            scores[i, len(hits) :] = scores[i, len(hits) - 1] if hits else 0.0
        return scores, ids

    @staticmethod
    def _nearest(connection: Any, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Each query's ``k`` nearest chunks as (id, negative inner product), on one connection."""
        found = []
        if k > EF_SEARCH:
            connection.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(k),))
        for vector in np.asarray(queries, dtype=np.float32):
            found.append(connection.execute(
                "SELECT id, embedding <#> %s AS distance FROM qa_chunks ORDER BY distance LIMIT %s", (vector, k)).fetchall())
        if k > EF_SEARCH:
            connection.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        return found

    def score(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The exact inner products of ``query`` with the chunks ``ids`` (by primary key: no graph search)."""
        wanted, sql = [int(chunk) for chunk in ids], "SELECT id, -(embedding <#> %s) FROM qa_chunks WHERE id = ANY(%s)"
        found = dict(reading(self.url, lambda c: c.execute(sql, (np.asarray(query, dtype=np.float32), wanted)).fetchall()))
        return np.array([found.get(chunk, -np.inf) for chunk in wanted], dtype=np.float32)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        """The vectors of chunks ``start``..``stop``-1 in corpus order (documents by position, chunks by ordinal)."""
        sql = ("SELECT c.embedding FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc ORDER BY d.position, c.ordinal "
               "OFFSET %s LIMIT %s")
        rows = reading(self.url, lambda connection: connection.execute(sql, (start, stop - start)).fetchall())
        return np.asarray([row[0] for row in rows], dtype=np.float32).reshape(len(rows), self.dim)


class PgLexicalSearch:
    """BM25 in SQL over ``qa_postings`` and ``qa_terms``: nothing per corpus in memory."""

    def __init__(self, url: str, size: int, average_length: float) -> None:
        self.url = url
        self.size = size  # chunks in the generation loaded
        self.average_length = average_length

    def search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, database chunk ids) of the best ``k`` chunks for the question's ``tokens`` with a positive score,
        best first."""
        if self.size == 0 or not tokens:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        counts = Counter(tokens)
        terms = list(counts)
        values = {"size": self.size, "terms": terms, "counts": [counts[t] for t in terms], "k": min(k, self.size), "depth": max(DEPTH, k),
                  "k1": BM25_K1, "b": BM25_B, "average": self.average_length, "exact": EXACT_POSTINGS, "budget": RARE_POSTINGS}

        rows = reading(self.url, lambda connection: connection.execute(BM25, values).fetchall())
        hits = [(chunk, score) for chunk, score in rows if score > 0]
        return np.array([s for _, s in hits], dtype=np.float32), np.array([c for c, _ in hits], dtype=np.int64)
