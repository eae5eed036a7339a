"""Answers on real documentation: whole-sentence quotes and answers found.

    HF_HUB_OFFLINE=1 python -m bench.docs [--docs ../shared/eval/docs] [--index /tmp/qa-docs-index]

Indexes ``../shared/eval/docs`` (Cargo Book HTML, Node.js HTML and Markdown, a
Texinfo PDF) with the real model, asks the questions of ``bench/docs_questions.jsonl``
(written from reading the documents, before any tuning: 44 answerable with the
strings a correct quote must hold, 11 the documents do not answer; ``--questions
bench/docs_dev_questions.jsonl`` asks the development set instead: 40 + 10 other questions, written
later, for tuning, so that the test set stays untouched) and reports:

- passages indexed and the time to index (one cold build);
- whole sentences: the share of quotes (of answered questions) that start where a
  sentence starts and end where one ends in the document as a person reads it
  (its paragraphs, list items... as the readers give them): the start is a
  block's start or follows . ! ? or a colon, the end is a block's end or . ! ?
  (closing marks after it allowed). ``--score FILE`` judges the quotes of a run of
  other code (the baseline) the same way;
- answer quoted: answerable questions with a quote that holds one of the answer
  strings (compared case-blind, whitespace squeezed, wrapped lines joined,
  Markdown ` and * marks dropped, curly quotes made straight);
- abstained: unanswerable questions the bot declined;
- where the answer is: for each answerable question, the place of the first candidate sentence holding an answer
  string in the cheap score's order (the reader reads the best ``judged`` of them), so that a miss of the reader
  tells apart from a miss of the ranking before it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from qa import Index

try:
    from qa.read.unwrap import display_text
except ImportError:  # an older checkout (no display module), measured as the baseline
    def display_text(text: str) -> str:
        return " ".join(text.split())

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent.parent / "shared" / "eval" / "docs"
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_TRAIL = "`*_\"'”’)]"


def normal(text: str) -> str:
    text = display_text(text).translate(_STRAIGHT).replace("`", "").replace("*", "")
    return " ".join(text.split()).casefold()


def flat(text: str) -> str:
    """Text compared across readers: hyphenated line ends joined, whitespace squeezed."""
    return " ".join(re.sub(r"(?<=[a-z])(?:\u00ad|-)\s*\n\s*(?=[a-z])", "", text).split())


def whole_sentence(quote: str, blocks: list[str]) -> bool:
    """Does the quote start where a sentence starts and end where one ends, in the document as a person
    reads it (its blocks as qa's readers give them: a paragraph of an HTML page is one block)?"""
    quote = flat(quote)
    for block in blocks:
        at = block.find(quote)
        while at >= 0:
            before, after = block[:at].rstrip(), block[at + len(quote) :].strip()
            starts = not before or before.rstrip(_TRAIL)[-1:] in (".", "!", "?", ":")
            ends = not after or quote.rstrip(_TRAIL)[-1:] in (".", "!", "?")
            if starts and ends:
                return True
            at = block.find(quote, at + 1)
    return False


def person_view(docs: Path) -> dict[str, list[str]]:
    """Each document's blocks as the issue-10 readers give them (run with the new code)."""
    from qa.read.files import read_sources

    documents, _ = read_sources([docs])
    return {d.source: [flat(d.text[b.start : b.end]) for b in d.blocks] or [flat(d.text)] for d in documents}


def score(result: dict[str, object], docs: Path) -> dict[str, object]:
    """The share of whole-sentence quotes, judged against the person's view of each document."""
    view = person_view(docs)
    given = result["quotes_given"]
    assert isinstance(given, list)  # [source, quote] pairs: tuples from ``run``, lists from a results file
    quotes = [(source, quote) for source, quote in given]
    whole = sum(whole_sentence(quote, view.get(source, [])) for source, quote in quotes)
    return {**result, "quotes": len(quotes), "whole_sentence_quotes": round(100 * whole / max(len(quotes), 1), 1)}


def run(docs: Path, index_dir: Path, reuse: bool = False, question_file: Path = HERE / "docs_questions.jsonl") -> dict[str, object]:
    questions = [json.loads(line) for line in question_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not reuse:
        shutil.rmtree(index_dir, ignore_errors=True)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([docs], index_dir)  # with --reuse: unchanged, so nothing is embedded again
    seconds = time.perf_counter() - began
    found = answerable = abstained = unanswerable = 0
    misses: list[dict[str, object]] = []
    given: list[tuple[str, str]] = []
    places: list[int | None] = []
    for q in questions:
        answer = index.answer(q["question"])
        if q["answers"]:
            places.append(answer_place(index, q["question"], q["answers"]))
        cited = [c for c in answer.citations if c.supports_answer] if answer.answered else []
        given.extend((c.source, c.quote) for c in cited)
        if q["answers"]:
            answerable += 1
            hit = any(normal(a) in normal(c.quote) for c in cited for a in q["answers"])
            found += hit
            if not hit:
                misses.append({"id": q["id"], "question": q["question"], "answered": answer.answered,
                               "quotes": [f"{c.source}: {display_text(c.quote)[:160]}" for c in answer.citations]})
        else:
            unanswerable += 1
            abstained += not answer.answered
            if answer.answered:
                misses.append({"id": q["id"], "question": q["question"], "answered": True,
                               "quotes": [f"{c.source}: {display_text(c.quote)[:160]}" for c in cited]})
    return {
        "documents": len(index.corpus.documents), "passages": len(index.corpus.chunks),
        "sentences": len(index.corpus.sentences), "index_seconds": round(seconds, 1),
        "quotes_given": given,
        "answerable": answerable, "answer_quoted": round(100 * found / max(answerable, 1), 1),
        "unanswerable": unanswerable, "abstained": round(100 * abstained / max(unanswerable, 1), 1),
        "answer_place": places_summary(index, places),
        "misses": misses,
    }


def answer_place(index: Index, question: str, answers: list[str]) -> int | None:
    """Where the first candidate holding an answer string stands among the question's candidates (1: first), in the
    cheap score's order, as the reader gets them: a candidate holds it in its sentence or in the code block or list
    the sentence introduces, which the reader reads with it. None when no candidate holds one."""
    from qa.answer.blocks import READ_CHARS, introduced_text
    from qa.answer.compose import candidate_sentences

    corpus, candidates, _ = candidate_sentences(index, index.retriever.read(question, None, index.settings.max_question_chars))
    wanted = [normal(a) for a in answers]

    def holds(sentence: int) -> bool:
        read = normal(corpus.sentence_text(sentence) + " " + introduced_text(corpus, sentence, READ_CHARS))
        return any(a in read for a in wanted)

    return next((n for n, c in enumerate(candidates, start=1) if holds(c.sentence)), None)


def places_summary(index: Index, places: list[int | None]) -> dict[str, int]:
    """How many answerable questions have their answer's sentence among those the reader reads, just after, or further."""
    from qa.answer.reader import load_reader

    judged = load_reader(index.settings.answer.reader).combiner.judged
    return {f"read (1-{judged})": sum(p is not None and p <= judged for p in places),
            f"{judged + 1}-8": sum(p is not None and judged < p <= 8 for p in places),
            "9-20": sum(p is not None and 8 < p <= 20 for p in places),
            "further": sum(p is not None and p > 20 for p in places),
            "no candidate holds it": sum(p is None for p in places)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--index", type=Path, default=Path(tempfile.gettempdir()) / "qa-docs-index")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "docs_results.json")
    parser.add_argument("--score", type=Path, help="only score the quotes of a results file (a baseline run's)")
    parser.add_argument("--no-score", action="store_true", help="leave the whole-sentence share to --score")
    parser.add_argument("--reuse", action="store_true", help="keep an index built before (the index time is then not a build's)")
    parser.add_argument("--questions", type=Path, default=HERE / "docs_questions.jsonl",
                        help="the question set (docs_dev_questions.jsonl: the development set, for tuning)")
    args = parser.parse_args()
    if args.score:
        result = score(json.loads(args.score.read_text(encoding="utf-8")), args.docs)
    elif args.no_score:  # a baseline run with other code: score it afterwards with --score
        result = run(args.docs, args.index, args.reuse, args.questions)
    else:
        result = score(run(args.docs, args.index, args.reuse, args.questions), args.docs)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("misses", "quotes_given")}, indent=1))
    misses = result["misses"]
    assert isinstance(misses, list)
    for miss in misses:
        print(f"- {miss['id']} {miss['question']} (answered: {miss['answered']})")
        for quote in miss["quotes"]:
            print(f"    {quote}")


if __name__ == "__main__":
    main()
