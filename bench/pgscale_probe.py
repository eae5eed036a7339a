"""One app-like process of the PostgreSQL scale bench: ``python -m bench.pgscale_probe URL QUESTIONS OUT``.

Started fresh for each size, so that its memory is its own: it opens the index (``Index.load``), answers the
first question (time from the process's start, models loaded on the way), then answers every question of the
QUESTIONS file (a JSON list), then retrieves for the first 200 again, and writes to OUT (JSON): its RSS after
the first answer and after all of them, the timings, each answer's first citation and the documents of the 5
passages it read (for comparing sizes), and how many distinct passages each search's candidates hold for the first 200.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()

import warnings  # noqa: E402 - the clock starts before the imports: they are part of a process's start

from qa import Index  # noqa: E402

from .common import p50_p95, rss_mib  # noqa: E402


def first_quote(answer: object) -> list[object]:
    citations = getattr(answer, "citations", ())
    if not getattr(answer, "answered", False) or not citations:
        return [False]
    first = citations[0]
    return [True, first.path, first.start, first.end, first.quote]


def distinct_candidates(index: Index, questions: list[str]) -> list[float]:
    """The mean number of distinct passages (heading path and text: ``Corpus.chunk_identity``) among each search's
    candidates before fusion (``RetrievalSettings.candidates`` each, dense then lexical): copies of one text crowd them."""
    retriever, wanted = index.retriever, index.settings.retrieval.candidates
    counts: list[list[int]] = [[], []]
    for question in questions:
        asked = retriever.read(question, None, index.settings.max_question_chars)
        assert asked.vector is not None
        _, dense = retriever.dense.search(asked.vector[None, :], wanted)
        _, lexical = retriever.lexical.search(asked.query_tokens, wanted)
        for count, ids in zip(counts, (dense[0], lexical), strict=True):
            corpus, hits = index.view.around([(int(i), 0.0) for i in ids if i >= 0])
            count.append(len({corpus.chunk_identity(chunk) for chunk, _ in hits}))
    return [sum(c) / max(len(c), 1) for c in counts]


def main(url: str, questions_file: str, out: str) -> None:
    with open(questions_file, encoding="utf-8") as file:
        questions = json.load(file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.load(url)
    loaded = time.perf_counter() - STARTED
    first = index.answer(questions[0])
    first_answer = time.perf_counter() - STARTED
    rss_started = rss_mib()
    answers, answer_ms = [first_quote(first)], []
    for question in questions[1:]:
        started = time.perf_counter()
        answer = index.answer(question)
        answer_ms.append((time.perf_counter() - started) * 1000)
        answers.append(first_quote(answer))
    retrieve_ms = []
    for question in questions[:200]:
        started = time.perf_counter()
        index.retrieve(question, k=5)
        retrieve_ms.append((time.perf_counter() - started) * 1000)
    read = [[passage.path for passage in index.retrieve(question, k=5)] for question in questions]  # after the timings
    rss_after = rss_mib()
    distinct = distinct_candidates(index, questions[:200])  # after the timings and the memory: it reads 200 documents a question
    result = {"load_s": loaded, "first_answer_s": first_answer, "rss_started_mib": rss_started, "rss_after_mib": rss_after,
              "answer_ms": p50_p95(answer_ms), "retrieve_ms": p50_p95(retrieve_ms), "answers": answers,
              "read": read, "questions": len(questions),
              "distinct_candidates": distinct}
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main(*sys.argv[1:4])
