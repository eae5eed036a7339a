"""PDF: running headers and footers left out, hyphenated and wrapped lines read as one sentence, columns apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.chunk import chunk_document
from qa.clean import display_text
from qa.read import read_document
from qa.settings import ChunkSettings

BODY = [
    ["2.1 Fog signals",
     "The lighthouse keeper counted the passing ships with great en-",
     "thusiasm every single morning. The foghorn sounded twice an",
     "hour when the fog rolled in from the sea at dusk, and the keeper wrote",
     "every signal in the log.",
     "- Gulls nested on the old pier."],
    ["2.2 The bakery",
     "The bakery on the quay sells 300 loaves of rye bread every morning to the",
     "fishermen, who buy the bread before dawn and eat it out at sea.",
     "The baker opens the shop at five."],
]


def make_manual(path: Path) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_auto_page_break(False)
    for number, lines in enumerate(BODY, start=1):
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        pdf.set_xy(10, 8)
        pdf.cell(0, 6, f"Chapter 2: Harbour handling {number + 2}")  # running header, page number in it
        pdf.set_font("helvetica", size=11)
        pdf.set_xy(10, 25)
        for line in lines:
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(10, -15)
        pdf.cell(0, 6, f"Harbour Manual, page {number}", align="C")  # running footer
    pdf.output(str(path))


def make_two_columns(path: Path) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    left = ["The left column starts the story of", "the harbour and its ships."]
    right = ["The right column tells of the", "market and its fish."]
    for row, (a, b) in enumerate(zip(left, right)):  # written row by row, as two-column layouts often are
        pdf.set_xy(10, 20 + 7 * row)
        pdf.cell(90, 7, a)
        pdf.set_xy(110, 20 + 7 * row)
        pdf.cell(90, 7, b)
    pdf.output(str(path))


def read(path):
    doc = read_document(path)
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return doc, [doc.text[s.start : s.end] for s in chunked.sentences]


def test_running_headers_and_footers_are_left_out(tmp_path):
    make_manual(tmp_path / "manual.pdf")
    doc, _ = read(tmp_path / "manual.pdf")
    assert "Chapter 2" not in doc.text and "Harbour Manual" not in doc.text
    assert len(doc.page_starts) == 2 and doc.page_at(doc.text.index("The bakery on the quay")) == 2


def test_hyphenated_and_wrapped_lines_are_one_sentence_with_exact_offsets(tmp_path):
    make_manual(tmp_path / "manual.pdf")
    doc, sentences = read(tmp_path / "manual.pdf")
    first = next(s for s in sentences if s.startswith("The lighthouse keeper"))
    assert display_text(first) == "The lighthouse keeper counted the passing ships with great enthusiasm every single morning."
    second = next(s for s in sentences if s.startswith("The foghorn"))
    assert display_text(second) == ("The foghorn sounded twice an hour when the fog rolled in from the sea at dusk, "
                                    "and the keeper wrote every signal in the log.")
    assert "\n" in second and doc.text[doc.text.index(second) :].startswith(second)
    assert "- Gulls nested on the old pier." in sentences
    assert doc.section_at(doc.text.index("The baker opens")) == "2.2 The bakery"
    assert doc.section_at(doc.text.index("The foghorn")) == "2.1 Fog signals"


def test_two_columns_do_not_interleave(tmp_path):
    make_two_columns(tmp_path / "columns.pdf")
    doc, sentences = read(tmp_path / "columns.pdf")
    texts = [display_text(s) for s in sentences]
    assert "The left column starts the story of the harbour and its ships." in texts
    assert "The right column tells of the market and its fish." in texts
