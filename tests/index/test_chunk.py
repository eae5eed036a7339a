"""Cleaning and chunking: page chrome and repeated captions are left out, offsets stay exact."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from qa.index.chunk import chunk_document, split_sentences
from qa.read.clean import content_sections, document_title, is_chrome
from qa.settings import ChunkSettings
from qa.types import Span

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

CAPTIONS = [
    "FILE - A view shows the area, which came under the control of Azerbaijan's troops following a military "
    "conflict over Nagorno-Karabakh against ethnic Armenian forces and a further signing of a cease-fire deal, "
    "in Jabrayil District, Dec. 7, 2020.",
    "FILE - A view shows a burnt tank near Hadrut town, which recently came under the control of Azerbaijan's "
    "troops following a military conflict against ethnic Armenian forces, in the region of Nagorno-Karabakh, "
    "Nov. 25, 2020.",
]


def chunk_texts(index) -> list[str]:
    chunks = index.corpus.chunks
    return [index.documents[d].text[s:e] for d, s, e in zip(chunks["doc"], chunks["start"], chunks["end"], strict=True)]


def sentence_texts(index) -> list[str]:
    return [index.corpus.sentence_text(i) for i in range(len(index.corpus.sentences))]


def test_chrome_is_in_no_chunk_or_sentence(fake_index):
    texts = chunk_texts(fake_index)
    for text in texts + sentence_texts(fake_index):
        assert "Accessibility links" not in text
        assert "Breaking News" not in text
        assert not re.search(r"\b(?:XS|SM|MD|LG)\b", text), text


def test_each_caption_is_indexed_exactly_once(fake_index):
    texts = chunk_texts(fake_index)
    for caption in CAPTIONS:
        assert sum(text.count(caption) for text in texts) == 1
        assert sentence_texts(fake_index).count(caption) == 1  # "Dec." and "Nov." do not end the caption


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_retrieving_a_caption_returns_it_once(fake_index, mode):
    for caption in CAPTIONS:
        passages = fake_index.retrieve(caption, k=10, mode=mode)
        assert sum(caption in p.text for p in passages) == 1
        assert caption in passages[0].text
        assert len({(p.start, p.end) for p in passages}) == len(passages)


def test_every_sentence_is_in_some_chunk_and_overlap_stays_inside_a_section(fake_index, seed_text):
    chunks = fake_index.chunks.tolist()
    covered = {s for _, _, _, first, last in chunks for s in range(first, last + 1)}
    assert covered == set(range(len(fake_index.corpus.sentences)))
    sections = content_sections(seed_text, ChunkSettings().min_chrome_words)
    overlaps = 0
    for (_, start, end, _, last), (_, next_start, _, next_first, _) in pairwise(chunks):
        same_section = any(s.start <= start and next_start < s.end for s in sections)
        if next_start < end:  # overlapping chunks share whole sentences of one section
            overlaps += 1
            assert same_section and next_first == last
            assert fake_index.corpus.sentences["start"][next_first] == next_start
        else:
            assert not same_section  # the seed's sentences are short: only a new section starts afresh
    assert overlaps >= 3


# ----- clean ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("Accessibility links", True),
        ("Breaking News", True),
        ("XS", True),
        ("Share this", True),
        ("Page 3", True),
        ("It was unclear.", False),  # a short sentence
        ("# Notes", False),  # a Markdown heading
        ("continues a sentence", False),  # lower case: a wrapped line
        ("Azerbaijan Says 4 Soldiers Killed Amid Cease-Fire Violations", False),  # a headline
        ("", False),
    ],
)
def test_is_chrome(line, chrome):
    assert is_chrome(line, 4) is chrome


def test_content_sections_skip_repeats_and_chrome_without_editing():
    caption = "A long photo caption that is printed twice on the page."
    text = f"Menu\n\nFirst paragraph here.\n{caption}\n{caption}\nSecond paragraph.\nShort line.\nXS\n"
    sections = content_sections(text, 4)
    pieces = [text[s.start : s.end] for s in sections]
    assert pieces == [f"First paragraph here.\n{caption}", "Second paragraph.\nShort line."]


def test_short_repeated_lines_are_kept():
    text = "Yes it is.\nYes it is.\n"  # shorter than the duplicate threshold: a real repetition
    assert [text[s.start : s.end] for s in content_sections(text, 4)] == [text.strip()]


def test_document_title():
    text = "Harbour News From The Quay\n\nThe lighthouse keeper counted ships."
    assert document_title(text, content_sections(text, 4), "x.txt") == "Harbour News From The Quay"
    text = "The lighthouse keeper counted ships."
    assert document_title(text, content_sections(text, 4), "harbour_report-2020.txt") == "harbour report 2020"


# ----- chunk ---------------------------------------------------------------------------


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)))]


def test_split_sentences_respects_abbreviations_and_initials():
    text = "Mr. Smith met Dr. J. Doe on Dec. 7, 2020. They talked, e.g. about boats! Did it help? Yes."
    assert sentences_of(text) == [
        "Mr. Smith met Dr. J. Doe on Dec. 7, 2020.",
        "They talked, e.g. about boats!",
        "Did it help?",
        "Yes.",
    ]


def test_split_sentences_at_line_breaks():
    text = "A headline without a full stop\nThe body starts here, and\nwraps onto a second line.\n\nNew paragraph"
    assert sentences_of(text) == [
        "A headline without a full stop",
        "The body starts here, and\nwraps onto a second line.",
        "New paragraph",
    ]


def test_chunks_are_windows_of_sentences_with_overlap():
    text = " ".join(f"Sentence number {i} is here." for i in range(7))
    chunked = chunk_document(text, "x.txt", ChunkSettings(sentences=3, overlap=1, max_chars=1000))
    assert chunked.chunks == [(0, 2), (2, 4), (4, 6)]
    chunked = chunk_document(text, "x.txt", ChunkSettings(sentences=2, overlap=0, max_chars=1000))
    assert chunked.chunks == [(0, 1), (2, 3), (4, 5), (6, 6)]


def test_long_sentences_are_cut_to_max_chars_at_whitespace():
    text = "word " * 300 + "end."
    settings = ChunkSettings(max_chars=200)
    chunked = chunk_document(text, "x.txt", settings)
    assert len(chunked.sentences) > 1
    for span in chunked.sentences:
        piece = text[span.start : span.end]
        assert 0 < len(piece) <= 200 and piece == piece.strip()
        assert not piece.startswith("ord")  # cut between words
    assert "".join(text[s.start : s.end] for s in chunked.sentences).replace("word", "") .strip() == "end."
    for first, last in chunked.chunks:
        assert chunked.sentences[last].end - chunked.sentences[first].start <= 200


def test_chunk_offsets_exact_on_tricky_text():
    text = "Title\xa0line\r\n\r\n  Indented sentence one.\u2028Sentence two!\tSentence\xa0three?\r\n\r\n\r\nLast one…"
    chunked = chunk_document(text, "t.txt", ChunkSettings())
    assert chunked.chunks
    for span in chunked.sentences:
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
    assert [text[s.start : s.end] for s in chunked.sentences][-1] == "Last one…"


@pytest.mark.parametrize("sentences", [
    ["Weigh the impact on compile time, licensing, maintenance, etc.", "Cargo will attempt to reuse a dependency."],
    ["It may not need any network.", "dns.lookup() uses the operating system facilities."],
    ["Macros detect changes.", "rerun-if-env-changed is no longer needed for them."],
    ["Requirements can be separated with a comma, e.g., >= 1.2, < 1.5."],
    ["If 1.0.0-alpha of foo is published, foo = \"1.0\" will not match, as of Rust 1.60."],
    ["Use eventEmitter.once() to listen once.", "See Cargo.toml and cargo::warning for more."],
])
def test_split_sentences_in_documentation(sentences):
    text = " ".join(sentences)
    assert [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)), lines=False)] == sentences
