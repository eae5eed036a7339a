"""What the PostgreSQL store's own tests share: a line to add to the seed, a quiet build (the fake embedder unless
told), and statements run as the server's administrator."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import psycopg

from qa import Index

from helpers import FakeEmbedder

HARBOUR = "The lighthouse keeper counted 41 zebrafish boats in the harbour. Fog rolled in from the sea at dusk.\n"


def build(paths: Iterable[str | Path], url: str, embedder: FakeEmbedder | None = None) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build(paths, url, embedder=embedder or FakeEmbedder())


def admin(postgres_url: str, *statements: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
