"""How much each of the question's words weighs in a sentence: how rare it is in the sentence's own document.

The cheap score (``score.py``) and the choice of a clause window (``quotes.py``) weigh the question's words by their
inverse document frequency. Counted over the whole index, a sentence's weights change whenever unrelated documents
are added: over the seed alone "soldier" is in nearly every passage (idf 0.06), beside ripgrep's guide it is rare
(4.65), and "How many Armenian soldiers were killed in the war?" was answered from another sentence once the guide
was indexed. Counted over the passages of the sentence's own document, a document's sentences score the same whatever
else is indexed, in a folder or in a database (both give the answer whole documents).

A document's counts come from at most ``MAX_PASSAGES`` of its passages, evenly spread (the first question on a
20 MiB upload would otherwise tokenize all of it; 2,000 take about 0.16 s), and are kept for the documents asked
about last, at most ``CACHED_WORDS`` distinct words in all (about 190 bytes each, some 50 MB: 64 documents of 2,000
varied passages would hold 200 MB).
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable

from ..index.corpus import Corpus
from ..index.lexical import bm25_idf, tokenize
from ..retrieval.questions import Question

MAX_PASSAGES = 2_000
CACHED_WORDS = 250_000
Counts = tuple[dict[str, int], int]  # how many of the counted passages hold each token, and how many were counted


class _Recent:
    """The counts of the documents asked about last, as many as hold at most ``CACHED_WORDS`` words in all (the last
    one always); shared by the threads of a process."""

    def __init__(self) -> None:
        self.counts: OrderedDict[tuple[str, str, int], Counts] = OrderedDict()
        self.words = 0
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> Counts | None:
        with self.lock:
            if key in self.counts:
                self.counts.move_to_end(key)
            return self.counts.get(key)

    def put(self, key: tuple[str, str, int], counts: Counts) -> None:
        with self.lock:
            if key not in self.counts:
                self.counts[key] = counts
                self.words += len(counts[0])
            while len(self.counts) > 1 and self.words > CACHED_WORDS:
                self.words -= len(self.counts.popitem(last=False)[1][0])


_recent = _Recent()


def weigh(asked: Question, idf: Callable[[str], float]) -> dict[str, float]:
    """The weight of each content word of the question (``Question.word_tokens``: stemmed, stop and question words
    dropped): its ``idf``.

    Names in the question (capitalised words after the first) weigh at least the
    median word: in a document about one subject, its name is in every passage
    and its idf is near zero, yet it is what the question is about.
    Words only in the conversation context count half.
    """
    weights: dict[str, float] = {}
    for tokens, factor in ((asked.context_tokens, 0.5), (asked.word_tokens, 1.0)):
        values = {token: idf(token) for token in set(tokens)}
        if not values:
            continue
        names = set(asked.name_tokens) if factor == 1.0 else set()
        floor = statistics.median(values.values())  # numpy's median costs 70 µs on a handful of numbers
        for token, value in values.items():
            value = max(value, floor) if token in names else value
            weights[token] = max(weights.get(token, 0.0), factor * value)
    return weights


def passage_counts(corpus: Corpus, doc: int) -> Counts:
    """For each token, how many passages of document ``doc`` hold it (of at most ``MAX_PASSAGES``, evenly spread)."""
    document = corpus.documents[doc]
    rows = corpus.chunks[int(corpus.chunk_starts[doc]) : int(corpus.chunk_starts[doc + 1])]
    key = (document.path, document.sha256, hash(rows["end"].tobytes()))  # the same file chunked otherwise: other counts
    known = _recent.get(key)
    if known is not None:
        return known
    rows = rows[:: -(-len(rows) // MAX_PASSAGES)] if len(rows) else rows
    held = tokenize([document.text[int(r["start"]) : int(r["end"])] for r in rows], "en_plus")
    counted: Counter[str] = Counter()
    for tokens in held:
        counted.update(set(tokens))  # a passage counts once per token
    counts = (counted, len(rows))
    _recent.put(key, counts)
    return counts


class WordWeights:
    """The question's word weights in each document of ``corpus`` that a sentence comes from (worked out once each)."""

    def __init__(self, corpus: Corpus, asked: Question) -> None:
        self.corpus, self.asked = corpus, asked
        self._by_doc: dict[int, dict[str, float]] = {}

    def of(self, sentence: int) -> dict[str, float]:
        """The weights for sentence ``sentence`` of the corpus: the question's words' idf in its document."""
        doc = int(self.corpus.sentences["doc"][sentence])
        if doc not in self._by_doc:
            counts, size = passage_counts(self.corpus, doc)
            self._by_doc[doc] = weigh(self.asked, lambda token: bm25_idf(counts.get(token, 0), size))
        return self._by_doc[doc]
