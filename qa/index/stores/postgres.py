"""The index in a PostgreSQL database: its tables, incremental builds in one transaction, and loading.

Tables, in the connection's schema (pick one with ``?options=-csearch_path%3Dteam,public``)::

    qa_state      one row: format, generation (raised by every build that changes something),
                  manifest (model, dim, chunk settings), chunk count, average chunk length in tokens
    qa_documents  id, position (order in the corpus), path, source, sha256, title, page_starts, text,
                  structure (the document's own title and blocks: ``Document.structure``)
    qa_chunks     id, doc, ordinal, start, end, first_sentence, last_sentence (sentence ordinals
                  within the document), length (BM25 tokens), embedding vector(dim) + HNSW index
    qa_sentences  doc, ordinal, start, end, code (a code block's sentence), embedding halfvec(dim)
    qa_postings   term, chunk, tf, length: each chunk's stemmed tokens (qa.index.lexical), for BM25
    qa_terms      term, df: how many chunks hold the term

A build runs in one transaction: it takes an advisory lock (a second writer waits
``manifest.LOCK_WAIT_SECONDS``, then gets IndexLockedError; one adding its own files waits up to
``manifest.ADDING_WAIT_SECONDS``), compares the files with the stored
documents by content hash, deletes removed and changed documents (their rows cascade),
inserts and embeds only the new ones, raises the generation and commits. A crash before
the commit leaves the previous index whole; readers never wait for the writer. Builds with a
scope (workers each adding their own files) share the lock and write one after another
(``postgres_write``). This module is the ``IndexStore`` beside ``stores.folder``: ``qa.index.build``
plans, chunks and embeds (only documents the tables lack: the stored rows are kept, not carried
over), this module holds the transaction and reads the state; ``postgres_view`` reads the rows a
question needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...errors import IndexMismatchError, IndexMissingError, StoreError, rebuild_hint
from ...settings import Settings
from ..corpus import Part
from ..embedding import Embedder
from ..plan import Listed
from . import manifest as manifests
from .base import Build, Stored
from .postgres_corpus import read_listing
from .postgres_search import PgLexicalSearch, PgVectorSearch, connect, lost, reading, redact, register_types
from .postgres_view import DatabaseCorpus
from .postgres_write import write

FORMAT_VERSION = 2  # 2: the documents' structure and the sentences' code flag, as the index folder keeps them
LOCK_KEY = 0x7161  # "qa"; the second key is the schema's hash, so schemas lock apart
TABLES = ("qa_postings", "qa_terms", "qa_sentences", "qa_chunks", "qa_documents", "qa_state")


class DatabaseStore:
    """The index in a PostgreSQL database: the searches run in SQL, the corpus is read as questions need it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def describe(self) -> str:
        return redact(self.url)

    def key(self) -> Path | str:
        return self.url

    def generation(self) -> int | None:
        """The number of the committed generation (None when there is no index): one cheap query."""
        def read(connection: Any) -> int | None:
            if not _has_tables(connection):
                return None
            row = connection.execute("SELECT generation FROM qa_state").fetchone()
            return None if row is None else int(row[0])

        return reading(self.url, read)

    def load(self, settings: Settings, embedder: Embedder | None, previous: Stored | None = None) -> Stored:
        """The committed index, read in one snapshot; with ``previous``, only the documents it lacks are read."""
        return replace(_load(self.url, manifests.expected(settings, embedder), previous), embedder=embedder)

    @contextmanager
    def writer(self, settings: Settings, embedder: Embedder | None, adding: bool = False) -> Iterator[DatabaseWriter]:
        """A transaction holding the writer lock, with the stored documents listed. ``adding``: the lock is shared
        with other adding builds (each writes its own files, commits in turn), a whole build waits for them."""
        with _writing(self.url, adding) as connection:
            yield DatabaseWriter(self.url, connection, manifests.expected(settings, embedder), adding)


class DatabaseWriter:
    """A build's transaction: it inserts only the documents the tables lack and deletes the ones gone."""

    rewrites_all = False

    def __init__(self, url: str, connection: Any, expected: manifests.Manifest, adding: bool = False) -> None:
        self.url, self.connection, self.expected = url, connection, expected
        self.previous: Listed | None = None  # the stored documents without their text: a build compares hashes
        state = _state(connection)
        stored = state["manifest"] if state else {}
        self.dim: int | None = stored.get("dim")
        if state is None:
            return
        try:
            manifests.check(stored, replace(expected, dim=None), FORMAT_VERSION, redact(url))
            self.previous = read_listing(connection)
        except IndexMismatchError as error:  # everything is embedded again; tables of another format are made anew
            if adding:  # other workers' documents are not this build's to drop
                raise
            manifests.warn_rebuilding(error)
            connection.execute("DELETE FROM qa_documents; DELETE FROM qa_terms")
            if stored.get("format") != FORMAT_VERSION:
                self.dim = None

    def carried(self) -> dict[tuple[str, str], Part]:
        return {}  # the unchanged documents' rows stay in their tables

    def commit(self, build: Build) -> Stored:
        dim = build.manifest.dim
        if dim is None:
            raise ValueError("the build must say the vectors' size")
        if self.dim != dim:
            _create_tables(self.connection, dim)
        fields = {**replace(build.manifest, store=PgVectorSearch.kind).fields(), "format": FORMAT_VERSION}
        write(self.connection, build.documents, build.new, fields, build.scope)  # only new rows
        self.connection.commit()
        return _load(self.url, replace(self.expected, dim=dim))

    def current(self) -> Stored:
        self.connection.rollback()
        return _load(self.url, self.expected)


def _load(url: str, expected: manifests.Manifest, previous: Stored | None = None) -> Stored:
    """The committed index: its state row only (the rows are read as questions need them, ``postgres_view``);
    a missing or foreign one raises a clear error. A ``previous`` load's document cache is kept."""
    def read(connection: Any) -> dict[str, Any] | None:
        return _state(connection)

    state = reading(url, read)
    if state is None:
        raise IndexMissingError(f"No index in the database {redact(url)}. " + rebuild_hint(redact(url)))
    manifest = state["manifest"]
    manifests.check(manifest, expected, FORMAT_VERSION, redact(url))
    cache = previous.corpus.cache if previous is not None and isinstance(previous.corpus, DatabaseCorpus) else None
    return Stored(DatabaseCorpus(url, cache), PgVectorSearch(url, state["chunks"], manifest["dim"]),
                  PgLexicalSearch(url, state["chunks"], state["average_length"]), state["generation"])


@contextmanager
def _writing(url: str, adding: bool = False) -> Iterator[Any]:
    """A connection in a transaction holding the index's writer lock (released by commit or rollback); ``adding``:
    the lock is shared with other adding builds (an empty database is still made by one build alone: they wait for
    it, up to ``manifest.ADDING_WAIT_SECONDS``, and say so)."""
    import psycopg

    connection = connect(url)
    try:
        _require_pgvector(connection, url)
        register_types(connection)
        wait = manifests.ADDING_WAIT_SECONDS if adding else manifests.LOCK_WAIT_SECONDS
        connection.execute(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'")
        try:
            kind = "_shared" if adding and _has_tables(connection) else ""
            taken = connection.execute(f"SELECT pg_try_advisory_xact_lock{kind}(%s, hashtext(current_schema()))",
                                       (LOCK_KEY,)).fetchone()[0]
            if not taken:
                if adding:
                    warnings.warn(f"another build is writing the index in {redact(url)}: waiting for its commit "
                                  f"(up to {wait / 60:.0f} min)", stacklevel=5)
                connection.execute(f"SELECT pg_advisory_xact_lock{kind}(%s, hashtext(current_schema()))", (LOCK_KEY,))
        except psycopg.errors.LockNotAvailable as error:
            raise manifests.locked(redact(url)) from error
        connection.execute("SET LOCAL lock_timeout = 0")
        connection.execute("SET LOCAL maintenance_work_mem = '512MB'")  # HNSW builds in memory
        yield connection
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:  # the server stopped mid-build: nothing committed
        raise StoreError(lost(url, error)) from None
    finally:
        connection.close()  # without a commit this rolls back: the previous index stays


def _require_pgvector(connection: Any, url: str) -> None:
    import psycopg

    if connection.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as error:
        raise StoreError(
            f"The database {redact(url)} lacks the pgvector extension, and creating it failed "
            f"({str(error).strip().splitlines()[0]}). Install pgvector on the server (the package "
            "postgresql-NN-pgvector, or `make install` in pgvector's source) and run `CREATE EXTENSION vector;` "
            "in this database as a superuser."
        ) from None


def _has_tables(connection: Any) -> bool:
    """Does the schema hold an index? Read from pg_class with the statement's snapshot: ``to_regclass`` answers from
    the session's catalog cache, which keeps "no such table" within a transaction even after another build has made
    and committed it while this one waited for the lock (it then made the tables again, dropping that build's rows)."""
    return bool(connection.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'qa_state' "
                                   "AND relnamespace = current_schema()::regnamespace)").fetchone()[0])


def _state(connection: Any) -> dict[str, Any] | None:
    if not _has_tables(connection):
        return None
    row = connection.execute("SELECT generation, manifest, average_length, chunks FROM qa_state").fetchone()
    return None if row is None else {"generation": int(row[0]), "manifest": row[1], "average_length": float(row[2]),
                                     "chunks": int(row[3])}


def _create_tables(connection: Any, dim: int) -> None:
    connection.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
    connection.execute(f"""
        CREATE TABLE qa_state (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            generation bigint NOT NULL, manifest jsonb NOT NULL, chunks bigint NOT NULL,
            average_length double precision NOT NULL);
        INSERT INTO qa_state VALUES (true, 0, '{{}}', 0, 0);
        CREATE TABLE qa_documents (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            position integer NOT NULL, path text NOT NULL UNIQUE, source text NOT NULL, sha256 text NOT NULL,
            title text NOT NULL, page_starts integer[] NOT NULL, text text NOT NULL, structure jsonb NOT NULL);
        CREATE TABLE qa_chunks (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            doc bigint NOT NULL REFERENCES qa_documents ON DELETE CASCADE, ordinal integer NOT NULL,
            start integer NOT NULL, "end" integer NOT NULL, first_sentence integer NOT NULL,
            last_sentence integer NOT NULL, length integer NOT NULL, embedding vector({dim}) NOT NULL,
            UNIQUE (doc, ordinal));
        CREATE TABLE qa_sentences (doc bigint NOT NULL REFERENCES qa_documents ON DELETE CASCADE,
            ordinal integer NOT NULL, start integer NOT NULL, "end" integer NOT NULL, code boolean NOT NULL,
            embedding halfvec({dim}), PRIMARY KEY (doc, ordinal));  -- NULL: Settings.sentence_vectors off
        CREATE TABLE qa_postings (term text NOT NULL, chunk bigint NOT NULL REFERENCES qa_chunks ON DELETE CASCADE,
            tf integer NOT NULL, length integer NOT NULL, PRIMARY KEY (term, chunk) INCLUDE (tf, length));
        CREATE INDEX qa_postings_chunk ON qa_postings (chunk);
        CREATE TABLE qa_terms (term text PRIMARY KEY, df integer NOT NULL);
    """)
    register_types(connection)


def copy_in(url: str, parts: list[Part], manifest: dict[str, Any]) -> None:
    """Make ``parts`` (vectors included: an index built elsewhere) the whole index in the database, in one transaction.

    ``manifest`` gives the model, dim and settings the vectors were made with."""
    with _writing(url) as connection:
        _create_tables(connection, manifest["dim"])
        write(connection, [p.document for p in parts], parts, {**manifest, "format": FORMAT_VERSION, "store": PgVectorSearch.kind})
        connection.commit()
