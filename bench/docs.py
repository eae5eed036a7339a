"""Answers on real documentation: whole-sentence quotes and answers found (issue 10).

    HF_HUB_OFFLINE=1 python -m bench.docs [--docs ../shared/eval/docs] [--index /tmp/qa-docs-index]

Indexes ``../shared/eval/docs`` (Cargo Book HTML, Node.js HTML and Markdown, a
Texinfo PDF) with the real model, asks the questions of ``bench/docs_questions.jsonl``
(written from reading the documents, before any tuning: 44 answerable with the
strings a correct quote must hold, 11 the documents do not answer) and reports:

- passages indexed and the time to index (one cold build);
- whole sentences: the share of quotes (of answered questions) that start where a
  sentence starts and end where one ends, judged from the document alone: the
  start is a block's start or follows . ! ? (or a colon), the end is a block's end
  or . ! ? (Markdown emphasis or code marks after it allowed);
- answer quoted: answerable questions with a quote that holds one of the answer
  strings (compared case-blind, whitespace squeezed, wrapped lines joined,
  Markdown ` and * marks dropped, curly quotes made straight);
- abstained: unanswerable questions the bot declined.
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
    from qa.clean import display_text
except ImportError:  # the code before issue 10, measured as the baseline
    def display_text(text: str) -> str:
        return " ".join(text.split())

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent.parent / "shared" / "eval" / "docs"
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_TRAIL = "`*_\"'”’)]"


def normal(text: str) -> str:
    text = display_text(text).translate(_STRAIGHT).replace("`", "").replace("*", "")
    return " ".join(text.split()).casefold()


def whole_sentence(doc, start: int, end: int) -> bool:
    """Does the quote start at a sentence start and end at a sentence end (judged from the text alone)?"""
    text = doc.text
    block = doc.block_at(start) if getattr(doc, "blocks", ()) else None
    block_start = block.start if block else text.rfind("\n", 0, start) + 1
    block_end = block.end if block else (text.find("\n", end) if "\n" in text[end:] else len(text))
    before = text[block_start:start].rstrip()
    starts = not before or before[-1] in ".!?:" or before.rstrip(_TRAIL)[-1:] in (".", "!", "?")
    after = text[end:block_end].strip()
    ends = not after or text[start:end].rstrip(_TRAIL)[-1:] in (".", "!", "?")
    return starts and ends


def run(docs: Path, index_dir: Path) -> dict[str, object]:
    questions = [json.loads(line) for line in (HERE / "docs_questions.jsonl").read_text(encoding="utf-8").splitlines()]
    shutil.rmtree(index_dir, ignore_errors=True)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([docs], index_dir)
    seconds = time.perf_counter() - began
    quotes = whole = found = answerable = abstained = unanswerable = 0
    misses = []
    for q in questions:
        answer = index.answer(q["question"])
        cited = [c for c in answer.citations if c.supports_answer] if answer.answered else []
        for c in cited:
            doc = index.corpus.document(c.path)
            quotes += 1
            whole += whole_sentence(doc, c.start, c.end)
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
        "quotes": quotes, "whole_sentence_quotes": round(100 * whole / max(quotes, 1), 1),
        "answerable": answerable, "answer_quoted": round(100 * found / max(answerable, 1), 1),
        "unanswerable": unanswerable, "abstained": round(100 * abstained / max(unanswerable, 1), 1),
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--index", type=Path, default=Path(tempfile.gettempdir()) / "qa-docs-index")
    parser.add_argument("--out", type=Path, default=HERE / "docs_results.json")
    args = parser.parse_args()
    result = run(args.docs, args.index)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "misses"}, indent=1))
    for miss in result["misses"]:
        print(f"- {miss['id']} {miss['question']} (answered: {miss['answered']})")
        for quote in miss["quotes"]:
            print(f"    {quote}")


if __name__ == "__main__":
    main()
