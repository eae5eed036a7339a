"""Word and EPUB documents: read with python-docx and ebooklib, with their headings."""

from __future__ import annotations

import warnings
from pathlib import Path

from qa import Index
from qa.index.chunk import chunk_document
from qa.read.files import read_document
from qa.settings import ChunkSettings


def sentences(doc):
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return [doc.text[s.start : s.end] for s in chunked.sentences]


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


def test_docx_headings_lists_and_tables(tmp_path):
    write_docx(tmp_path / "handbook.docx")
    doc = read_document(tmp_path / "handbook.docx")
    assert doc.title == "Harbour handbook"
    texts = sentences(doc)
    assert "The foghorn sounds twice an hour when fog rolls in." in texts
    assert "Check the lamp at dusk" in texts and "Wind the clockwork at midnight" in texts
    assert "Two long blasts | Fog is coming" in texts
    assert doc.section_at(doc.text.index("The keeper logs")) == "Harbour handbook › Fog signals"
    assert doc.section_at(doc.text.index("Check the lamp")) == "Harbour handbook › Fog signals › Night watch"
    assert doc.section_at(doc.text.index("The fish market")) == "Harbour handbook › Market"
    kinds = {doc.text[b.start : b.end]: b.kind for b in doc.blocks}
    assert kinds["Check the lamp at dusk"] == "item" and kinds["Night watch"] == "heading"


def test_epub_chapters_in_reading_order_without_its_contents_page(tmp_path):
    write_epub(tmp_path / "tales.epub")
    doc = read_document(tmp_path / "tales.epub")
    assert doc.title == "Harbour tales"
    texts = sentences(doc)
    assert texts == ["The keeper counted 41 ships in the harbour.", "Fog rolled in at dusk.",
                     "The lamp burns paraffin oil.", "The bakery sells 300 loaves of rye bread every morning."]
    assert doc.section_at(doc.text.index("The lamp burns")) == "The lighthouse › The lamp"
    assert doc.section_at(doc.text.index("The bakery")) == "The market"


def test_docx_and_epub_passages_carry_their_section(tmp_path, fake_embedder):
    write_docx(tmp_path / "handbook.docx")
    write_epub(tmp_path / "tales.epub")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([tmp_path], tmp_path / "index", embedder=fake_embedder)
    hit = index.retrieve("paraffin lamp oil", k=1, mode="lexical")[0]
    assert hit.source == "tales.epub" and hit.section == "The lighthouse › The lamp"
    hit = index.retrieve("fish market opens", k=1, mode="lexical")[0]
    assert hit.source == "handbook.docx" and hit.section == "Harbour handbook › Market"
    reloaded = Index.load(tmp_path / "index", embedder=fake_embedder)
    assert reloaded.corpus.documents == index.corpus.documents  # blocks and sections survive storage


# ----- hostile archives: refused before any parser sees them, in bounded memory -------------------------------


def _zipped(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


_LAUGHS = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><w>&b;</w>'


def test_hostile_word_and_epub_files_are_skipped_with_a_reason(tmp_path, monkeypatch):
    import pytest

    from qa import ReadSettings
    from qa.errors import SourceError

    budget = ReadSettings(max_extracted_bytes=2**20)  # the same check as 50 MB, on a small file
    cases = {
        "inflates.docx": (_zipped([("word/document.xml", b"<w>" + b" " * (3 * 2**20) + b"</w>")]), "expands to more than 1 MB"),
        "media.docx": (_zipped([("word/document.xml", b"<w/>"), ("word/media/a.bin", b"\0" * (2 * 2**20))]), "expands"),
        "chapter.epub": (_zipped([("mimetype", b"application/epub+zip"), ("OEBPS/c1.xhtml", b"x" * (2 * 2**20))]), "expands"),
        "laughs.docx": (_zipped([("word/document.xml", _LAUGHS)]), "declares XML entities"),
        "laughs.epub": (_zipped([("mimetype", b"application/epub+zip"), ("OEBPS/content.opf", _LAUGHS)]), "declares XML entities"),
    }
    for name, (data, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SourceError, match=reason):
            read_document(path, budget=budget)
