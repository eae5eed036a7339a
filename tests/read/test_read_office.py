"""Word and EPUB documents: read with python-docx and ebooklib, with their headings."""

from __future__ import annotations

import warnings

from qa import Index
from qa.index.chunk import chunk_document
from qa.read.files import read_document
from qa.settings import ChunkSettings

from helpers.documents import LAUGHS, write_docx, write_epub, zipped


def sentences(doc):
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return [doc.text[s.start : s.end] for s in chunked.sentences]


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


def test_hostile_word_and_epub_files_are_skipped_with_a_reason(tmp_path, monkeypatch):
    import pytest

    from qa import ReadSettings
    from qa.errors import SourceError

    budget = ReadSettings(max_extracted_bytes=2**20)  # the same check as 50 MB, on a small file
    cases = {
        "inflates.docx": (zipped([("word/document.xml", b"<w>" + b" " * (3 * 2**20) + b"</w>")]), "expands to more than 1 MB"),
        "media.docx": (zipped([("word/document.xml", b"<w/>"), ("word/media/a.bin", b"\0" * (2 * 2**20))]), "expands"),
        "chapter.epub": (zipped([("mimetype", b"application/epub+zip"), ("OEBPS/c1.xhtml", b"x" * (2 * 2**20))]), "expands"),
        "laughs.docx": (zipped([("word/document.xml", LAUGHS)]), "declares XML entities"),
        "laughs.epub": (zipped([("mimetype", b"application/epub+zip"), ("OEBPS/content.opf", LAUGHS)]), "declares XML entities"),
    }
    for name, (data, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SourceError, match=reason):
            read_document(path, budget=budget)


def test_docx_superscripts_subscripts_and_links_read_as_word_shows_them(tmp_path):
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    paragraph = document.add_paragraph("An i8 holds -(2")
    paragraph.add_run("7").font.superscript = True
    paragraph.add_run(") to 2")
    paragraph.add_run("7").font.superscript = True
    paragraph.add_run(" - 1. Water is H")
    paragraph.add_run("2").font.subscript = True
    paragraph.add_run("O, said on the 4")
    paragraph.add_run("th").font.superscript = True
    paragraph.add_run(" day in ")
    link = OxmlElement("w:hyperlink")  # python-docx writes no hyperlinks: the XML Word writes for one
    link.set(qn("r:id"), paragraph.part.relate_to("https://example.com", RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    run, text = OxmlElement("w:r"), OxmlElement("w:t")
    text.text = "the harbour log"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    paragraph._p.append(paragraph.add_run(".")._r)
    document.save(str(tmp_path / "notes.docx"))
    expected = "An i8 holds -(2⁷) to 2⁷ - 1. Water is H₂O, said on the 4th day in the harbour log."
    assert read_document(tmp_path / "notes.docx").text == expected
