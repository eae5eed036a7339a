"""Sentence splitters on real documentation: ours against pysbd, syntok, blingfire and NLTK's Punkt.

    pip install -e ".[bench]" nltk; python -m bench.splitters

Gold: ``bench/splitter_gold.jsonl``, 38 paragraphs taken from ``../shared/eval/docs``
(as the readers give them: inline code without its marks), each written as its
list of sentences, chosen for what trips splitters in documentation: "e.g.",
"etc." ending a sentence, version numbers (1.0.0-alpha, v14.5.0, Rust 1.60),
identifiers (eventEmitter.once(), Cargo.toml, cargo::), sentences starting with a
lower-case identifier (stdout, dns.lookup()), list items without a full stop. A
paragraph is the sentences joined by a space. Reported: paragraphs split exactly
right, precision and recall of the sentence boundaries, and the seconds to split
every paragraph block of the 14 real documents. All are raw splitters: the chunker's
``join_short`` (a piece of under 4 words joins its sentence) applies to any of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from qa.index.chunk import split_sentences
from qa.read.files import read_sources
from qa.types import Span

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent.parent / "shared" / "eval" / "docs"
Splitter = Callable[[str], list[tuple[int, int]]]


def ours(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_sentences(text, Span(0, len(text)), lines=False)]


def pysbd_splitter() -> Splitter:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return lambda text: [(s.start, s.end) for s in segmenter.segment(text)]


def syntok_splitter(text: str) -> list[tuple[int, int]]:
    from syntok import segmenter

    spans = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            start = sentence[0].offset
            end = sentence[-1].offset + len(sentence[-1].value)
            spans.append((start, end))
    return spans


def blingfire_splitter(text: str) -> list[tuple[int, int]]:
    import blingfire

    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    return [tuple(pair) for pair in offsets]


def punkt_splitter() -> Splitter:
    from nltk.tokenize.punkt import PunktSentenceTokenizer  # untrained: no data download

    tokenizer = PunktSentenceTokenizer()
    return lambda text: list(tokenizer.span_tokenize(text))


def boundaries(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """Where sentences end (whitespace trimmed), the paragraph's own end left out."""
    ends = {len(text[:end].rstrip()) for _, end in spans}
    return ends - {len(text.rstrip())}


def main() -> None:
    gold = [json.loads(line) for line in (HERE / "splitter_gold.jsonl").read_text(encoding="utf-8").splitlines()]
    documents, _ = read_sources([DOCS])
    blocks = [doc.text[b.start : b.end] for doc in documents for b in doc.blocks if b.kind in ("text", "item")]
    splitters = {"ours (qa.index.chunk)": ours, "pysbd": pysbd_splitter(), "syntok": syntok_splitter,
                 "blingfire": blingfire_splitter, "nltk punkt (untrained)": punkt_splitter()}
    print(f"| splitter | paragraphs exactly right (of {len(gold)}) | boundary precision | boundary recall "
          f"| seconds ({len(blocks):,} real blocks) |")
    print("|---|---|---|---|---|")
    for name, split in splitters.items():
        exact = found = predicted = true = 0
        for sentences in gold:
            text = " ".join(sentences)
            spans = split(text)
            exact += [text[a:b].strip() for a, b in spans if text[a:b].strip()] == sentences
            truth = boundaries(text, [(text.index(s), text.index(s) + len(s)) for s in sentences])
            guess = boundaries(text, spans)
            found += len(truth & guess)
            predicted += len(guess)
            true += len(truth)
        began = time.perf_counter()
        for block in blocks:
            split(block)
        seconds = time.perf_counter() - began
        print(f"| {name} | {exact} | {found / max(predicted, 1):.2f} | {found / max(true, 1):.2f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
