"""Index builds the index and retrieval tests share: a harbour report to add to the seed, a quiet build with the
fake embedder, the sources of what was retrieved, and seed questions the embedding backends are compared on."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qa import Index, Passage

from helpers import FakeEmbedder

HARBOUR = (
    "Harbour report from the northern quay\n\n"
    "The lighthouse keeper counted 41 zebrafish boats in the harbour. Fog rolled in from the sea at dusk.\n"
    "The foghorn sounded twice an hour.\n"
)

QUESTIONS = [
    "What total military death toll did Azerbaijan report?",
    "How many Russian peacekeepers were deployed?",
    "Who brokered the cease-fire?",
    "When did the fighting formally end?",
    "When did Azerbaijan launch its military offensive?",
    "How many Karabakh fighters were wounded?",
    "What did Armenia's Foreign Ministry accuse Azerbaijan of?",
    "How many soldiers has Armenia lost?",
]


def build(corpus: Path, index_dir: Path | str, embedder: FakeEmbedder, **kwargs: Any) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build([corpus], index_dir, embedder=embedder, **kwargs)


def sources(passages: Iterable[Passage]) -> list[str]:
    return [p.source for p in passages]
