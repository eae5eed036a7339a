"""XQuAD answer quality: quotes that hold the gold answer, abstention, citation validity.

All 160 paragraphs of the subset are indexed, one file per paragraph named after
its article. A paragraph's own questions are answerable. Unanswerable questions
are each article's questions asked of an index without that article (built
incrementally from the full one, so nothing is embedded again).

The figures are also given over the 13 XQuAD articles that are not among SQuAD 2.0's 19 more articles
(``unseen_articles``): the reader is adapted on other paragraphs of the other 19.

Run: python -m bench.xquad_answers [EVAL_DIR]   (default ../shared/eval)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa import Answer, Index
from qa.evaluate import EvalReport, score

DEFAULT_EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
ADAPTED_ON = Path("squad2") / "squad2-dev-other19-train.json"  # SQuAD 2.0 articles the reader adapts on (XQuAD's paragraphs removed)


def load_xquad(eval_dir: Path) -> list[dict[str, Any]]:
    return json.loads((eval_dir / "xquad" / "xquad.en.subset.json").read_text(encoding="utf-8"))["data"]


def write_corpus(articles: list[dict[str, Any]], root: Path) -> dict[str, list[Path]]:
    """One file per paragraph, ``root/<article>/pNN/<Title>.txt``; returns the files of each article."""
    files: dict[str, list[Path]] = {}
    for article in articles:
        title = article["title"]
        for i, paragraph in enumerate(article["paragraphs"]):
            path = root / title / f"p{i:02d}" / f"{title.replace('_', ' ')}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(paragraph["context"], encoding="utf-8")
            files.setdefault(title, []).append(path)
    return files


def questions(article: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (qa["question"], [a["text"] for a in qa["answers"]])
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


def run(eval_dir: Path = DEFAULT_EVAL_DIR) -> dict[str, Any]:
    articles = load_xquad(Path(eval_dir))
    with tempfile.TemporaryDirectory() as tmp:
        files = write_corpus(articles, Path(tmp) / "corpus")
        all_files = [f for group in files.values() for f in group]
        index_dir = Path(tmp) / "index"
        started = time.perf_counter()
        index = Index.build(all_files, index_dir)
        build_seconds = time.perf_counter() - started
        items = [item for article in articles for item in questions(article)]
        homes = [files[a["title"]][i] for a in articles for i, p in enumerate(a["paragraphs"]) for _ in p["qas"]]
        started = time.perf_counter()
        answers = [index.answer(q) for q, _ in items]
        answer_ms = (time.perf_counter() - started) * 1000 / len(items)
        unanswerable_items: list[tuple[str, list[str]]] = []
        unanswerable_answers: list[Answer] = []
        for article in articles:
            rest = [f for title, group in files.items() if title != article["title"] for f in group]
            reduced_dir = Path(tmp) / "reduced"
            shutil.rmtree(reduced_dir, ignore_errors=True)
            shutil.copytree(index_dir, reduced_dir)  # start from the full index: nothing is embedded again
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reduced = Index.build(rest, reduced_dir)
            for question, _ in questions(article):
                unanswerable_items.append((question, []))
                unanswerable_answers.append(reduced.answer(question))
        # The full index object still holds every document, so it checks every citation.
        report = score(index, items + unanswerable_items, answers + unanswerable_answers)
        seen = {a["title"] for a in json.loads((Path(eval_dir) / ADAPTED_ON).read_text(encoding="utf-8"))["data"]}
        of_item = [a["title"] for a in articles for p in a["paragraphs"] for _ in p["qas"]] * 2  # answerable, then unanswerable
        unseen = [n for n, title in enumerate(of_item) if title not in seen]
        both = items + unanswerable_items, answers + unanswerable_answers
        unseen_report = score(index, [both[0][n] for n in unseen], [both[1][n] for n in unseen])
    return {
        "report": report,
        "unseen_articles": unseen_report,
        "calibration": calibration(answers, unanswerable_answers),
        "quotes": further_quotes(answers, homes),
        "paragraphs": sum(len(a["paragraphs"]) for a in articles),
        "build_seconds": build_seconds,
        "answer_ms_mean": answer_ms,
    }


def further_quotes(answers: list[Answer], homes: list[Path]) -> dict[str, float]:
    """Quotes after the first: how many, and how many come from the paragraph that holds the answer."""
    answered = [(a, home.resolve()) for a, home in zip(answers, homes, strict=True) if a.answered]
    further = [Path(c.path).resolve() == home for a, home in answered for c in a.citations[1:]]
    return {
        "answers_with_further_quotes": sum(len(a.citations) > 1 for a, _ in answered) / max(len(answered), 1),
        "further_quotes_per_answer": len(further) / max(len(answered), 1),
        "further_quotes_from_answer_paragraph": sum(further) / len(further) if further else 1.0,
    }


def calibration(answerable: list[Answer], unanswerable: list[Answer]) -> dict[str, float]:
    """Where the abstention threshold would fall: best-sentence scores on both sides."""
    best_a = np.array([a.citations[0].score if a.citations else 0.0 for a in answerable])
    best_u = np.array([a.citations[0].score if a.citations else 0.0 for a in unanswerable])
    out: dict[str, float] = {}
    for quantile in (0.95, 0.97, 0.98):
        threshold = float(np.quantile(best_u, quantile))
        out[f"threshold_p{round(quantile * 100)}"] = threshold
        out[f"answered_at_p{round(quantile * 100)}"] = float(np.mean(best_a >= threshold))
    return out


def format_report(result: dict[str, Any]) -> str:
    report: EvalReport = result["report"]
    calibration = ", ".join(f"{k} {v:.3f}" for k, v in result["calibration"].items())
    quotes = ", ".join(f"{k} {v:.3f}" for k, v in result["quotes"].items())
    return (report.summary() + f"\nfurther quotes: {quotes}\ncalibration: {calibration}"
            + f"\nindex build: {result['build_seconds']:.1f} s; mean answer time {result['answer_ms_mean']:.1f} ms")


if __name__ == "__main__":
    print(format_report(run(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_EVAL_DIR)))
