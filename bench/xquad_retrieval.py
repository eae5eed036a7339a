"""XQuAD subset: does retrieval find the paragraph that holds the answer?

Each of the 160 paragraphs is written as one file, "Article title\\n\\nparagraph", so a
chunk belongs to exactly one paragraph; a paragraph ranks where its best chunk ranks.
Figures: paragraph recall@1, recall@5 and MRR (over the top 100 chunks) per mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaldata import write_corpus
from qa import Index

from .common import Config, Section, Table, pct, stopwatch

DEPTH = 100
REFERENCE = {  # ../shared/FINDINGS.md, same subset (3-sentence chunks, title in front for BM25)
    "dense": (0.897, 0.990),
    "lexical": (0.926, 0.987),
    "hybrid": (0.957, 0.994),
}


@dataclass(frozen=True)
class Question:
    text: str
    paragraph: str  # file name of the paragraph that holds the answer
    answers: tuple[str, ...]


@dataclass(frozen=True)
class XQuAD:
    paragraphs: dict[str, str]  # file name -> file text
    questions: list[Question]


def load(eval_dir: Path) -> XQuAD:
    with open(eval_dir / "xquad" / "xquad.en.subset.json", encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    paragraphs: dict[str, str] = {}
    questions: list[Question] = []
    for article in articles:
        title = article["title"].replace("_", " ")
        for number, paragraph in enumerate(article["paragraphs"]):
            name = f"{article['title']}-{number:02d}.txt"
            paragraphs[name] = f"{title}\n\n{paragraph['context'].strip()}\n"
            for qa in paragraph["qas"]:
                questions.append(Question(qa["question"], name, tuple(a["text"] for a in qa["answers"])))
    return XQuAD(paragraphs, questions)


def build_index(config: Config, data: XQuAD) -> Index:
    files = write_corpus(config.cache_dir / "xquad-paragraphs", data.paragraphs.items())
    return Index.build(files, config.cache_dir / "xquad-paragraph-index")


def paragraph_ranking(index: Index, question: str, mode: str) -> list[str]:
    hits, _ = index.retriever.rank(question, DEPTH, mode)
    seen: dict[str, None] = {}
    for chunk, _ in hits:
        seen.setdefault(index.documents[int(index.chunks["doc"][chunk])].source, None)
    return list(seen)


def run(config: Config) -> Section:
    data = load(config.eval_dir)
    with stopwatch() as build_time:
        index = build_index(config, data)
    questions = data.questions[:: 8 if config.quick else 1]
    section = Section("xquad_retrieval", "Retrieval quality: XQuAD paragraphs")
    table = Table(f"Paragraph recall and MRR, {len(questions)} questions, {len(data.paragraphs)} paragraphs "
                  f"in {len(index.chunks):,} chunks", ["mode", "R@1", "R@5", "MRR@100", "FINDINGS.md R@1 / R@5"])
    for mode in ("dense", "lexical", "hybrid"):
        ranks = []
        for question in questions:
            ranking = paragraph_ranking(index, question.text, mode)
            ranks.append(ranking.index(question.paragraph) + 1 if question.paragraph in ranking else 0)
        found = np.array(ranks)
        reference = REFERENCE[mode]
        table.add(mode, pct(float(np.mean(found == 1))), pct(float(np.mean((found >= 1) & (found <= 5)))),
                  float(np.mean([1 / r if r else 0.0 for r in ranks])), f"{pct(reference[0])} / {pct(reference[1])}")
    section.tables.append(table)
    section.notes.append(f"Index built (or reused from the cache folder) in {build_time[0]:.0f} s.")
    if config.quick:
        section.notes.append("--quick: every 8th question.")
    return section
