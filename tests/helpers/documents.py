"""Documents the tests write at test time, for the readers and everything after them: a Word file, an EPUB book,
PDFs (a manual with running headers, plain pages, one whose content stream inflates), zip archives, and a guide
whose sentences introduce a command and a list."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest


def write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Harbour handbook"
    document.add_heading("Harbour handbook", level=0)  # the "Title" style
    document.add_heading("Fog signals", level=1)
    paragraph = document.add_paragraph("The foghorn sounds ")
    paragraph.add_run("twice an hour").bold = True
    paragraph.add_run(" when fog rolls in. The keeper logs every signal.")
    document.add_heading("Night watch", level=2)
    document.add_paragraph("Check the lamp at dusk", style="List Bullet")
    document.add_paragraph("Wind the clockwork at midnight", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Signal", "Meaning"), ("Two long blasts", "Fog is coming")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("Market", level=1)
    document.add_paragraph("The fish market opens at six.")
    document.save(str(path))


def write_epub(path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("harbour-tales")
    book.set_title("Harbour tales")
    book.set_language("en")
    chapters = [
        ("ch1.xhtml", "<h1>The lighthouse</h1><p>The keeper counted <em>41 ships</em> in the harbour. "
                      "Fog rolled in at dusk.</p><h2>The lamp</h2><p>The lamp burns <code>paraffin</code> oil.</p>"),
        ("ch2.xhtml", "<h1>The market</h1><p>The bakery sells 300 loaves of rye bread every morning.</p>"),
    ]
    items = []
    for name, body in chapters:
        chapter = epub.EpubHtml(title=name, file_name=name, lang="en")
        chapter.content = f"<html><body>{body}</body></html>"
        book.add_item(chapter)
        items.append(chapter)
    book.toc = tuple(items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)


MANUAL = [  # the lines of each page of the manual make_manual writes
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
    for number, lines in enumerate(MANUAL, start=1):
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


def make_pdf(path: Path, pages: list[str]) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.set_auto_page_break(False)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
        pdf.set_y(-20)
        pdf.cell(0, 10, f"Page {number}", align="C")  # a page number footer
    pdf.output(str(path))


PDF_PAGES = [
    "The lighthouse keeper counted 41 ships in the harbour. Fog rolled in from the sea at dusk. "
    "The foghorn sounded twice an hour. Gulls nested on the old pier.",
    "The bakery on the quay sells 300 loaves of rye bread every morning. Fishermen buy the bread before dawn.",
]


def bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF with a sentence of text whose content stream inflates to ``inflated`` bytes (about 1 KB
    compressed per MB), made block by block so that making it costs no memory."""
    import zlib

    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (The lighthouse was first lit in 1874.) Tj ET\n")]
    parts += [packer.compress(b" " * 2**20) for _ in range(inflated // 2**20)]
    stream = b"".join([*parts, packer.flush()])
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(out)


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


# XML that declares entities which expand each other (a small "billion laughs"): the readers refuse it unexpanded.
LAUGHS = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><w>&b;</w>'


# Documentation whose sentences ending in ":" introduce a command (a code block) and a list.
GUIDE = """# Guide

## First search

Let's try our first search by looking for all occurrences of the word `fast` in `README.md`:

```
$ rg fast README.md
75:  faster than both. (N.B. It is not, strictly speaking, a "drop-in" replacement
```

The output shows every match.

## Configuration file

There are only two rules for the configuration file:

1. Every line is a shell argument, after trimming whitespace.
2. Lines starting with `#` (optionally preceded by any amount of whitespace) are ignored.

ripgrep reads no configuration file unless told where it is.

## Colors

Colors can be changed in several places. The default colors are chosen for a dark terminal.
"""
